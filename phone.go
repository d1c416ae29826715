package callbridge

import "strings"

// callingCodes maps ISO country codes to calling codes and whether national
// numbers carry a trunk prefix "0" that is dropped in international form.
var callingCodes = map[string]struct {
	code  string
	trunk bool
}{
	"US": {"1", false}, "CA": {"1", false}, "MX": {"52", false}, "BR": {"55", true},
	"AR": {"54", true}, "CL": {"56", false}, "CO": {"57", false}, "PE": {"51", false},
	"ES": {"34", false}, "PT": {"351", false}, "GB": {"44", true}, "DE": {"49", true},
	"FR": {"33", true}, "IT": {"39", false}, "IN": {"91", true}, "TR": {"90", true},
	"ID": {"62", true}, "RU": {"7", false}, "UA": {"380", true}, "AE": {"971", true},
}

// NormalizePhone returns raw in E.164 ("+14155550100") when it is a phone
// number, reading national numbers with country's rules (ISO alpha-2, default
// "US"). Short digit strings (under 7 digits) are extensions and are returned
// as digits; SIP URIs and client names are returned trimmed and lowercased.
// The empty string and "anonymous"-like values return "".
func NormalizePhone(raw, country string) string {
	s := strings.TrimSpace(raw)
	if s == "" {
		return ""
	}
	low := strings.ToLower(s)
	switch low {
	case "anonymous", "restricted", "unknown", "private", "unavailable":
		return ""
	}
	if strings.HasPrefix(low, "sip:") || strings.HasPrefix(low, "client:") || strings.Contains(low, "@") {
		return low
	}
	plus := strings.HasPrefix(s, "+")
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	switch {
	case d == "":
		return low
	case plus:
		return "+" + d
	case strings.HasPrefix(d, "00") && len(d) > 9:
		return "+" + d[2:]
	case len(d) < 7:
		return d
	}
	cc, ok := callingCodes[strings.ToUpper(country)]
	if !ok {
		cc = callingCodes["US"]
	}
	if cc.code == "1" {
		if len(d) == 11 && d[0] == '1' {
			return "+" + d
		}
		if len(d) == 10 {
			return "+1" + d
		}
		return "+" + d
	}
	if cc.trunk && d[0] == '0' {
		return "+" + cc.code + strings.TrimLeft(d, "0")
	}
	if strings.HasPrefix(d, cc.code) && len(d) > 10 {
		return "+" + d
	}
	return "+" + cc.code + d
}

// PhoneTail returns the last n digits of p (all digits if fewer). Kommo matches
// calls on the last 10 digits and call notifications on the last 8.
func PhoneTail(p string, n int) string {
	var b strings.Builder
	for _, r := range p {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if len(d) > n {
		return d[len(d)-n:]
	}
	return d
}

// IsPhoneNumber reports whether p (as returned by NormalizePhone) is an E.164
// number rather than an extension or a SIP identity.
func IsPhoneNumber(p string) bool { return strings.HasPrefix(p, "+") && len(p) >= 8 }
