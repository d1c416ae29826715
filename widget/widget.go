// Package widget holds callbridge's Kommo widget and builds it into the
// widget.zip that is uploaded to Kommo.
//
// The widget's sources are in src/ (embedded in the binary, see Source):
// manifest.json, an AMD script.js with no build step, style.css, i18n/ for
// every locale of the manifest, twig templates/ and the images/ Kommo
// requires. Build checks them (Check: the mechanical part of Kommo's
// Marketplace checklist) and writes a zip with the files at its root and the
// callbridge server's public URL filled in.
//
// The browser tests (browser_test.go) load the built widget into a page that
// provides Kommo's globals (harness/) and drive it in headless Chromium
// against a real callbridge server and the Kommo emulator.
package widget

import (
	"archive/zip"
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"image/png"
	"io/fs"
	"maps"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"callbridge"
)

//go:embed all:src
var src embed.FS

// Source returns the widget's sources as embedded in the binary.
func Source() fs.FS {
	sub, err := fs.Sub(src, "src")
	if err != nil {
		panic(err) // the embed pattern guarantees src exists
	}
	return sub
}

// Placeholder is replaced by the server's public URL in every text file of
// the built widget.
const Placeholder = "__CALLBRIDGE_PUBLIC_URL__"

// Limits of the checks.
const (
	// MaxImageBytes is Kommo's limit for one image (300 KB).
	MaxImageBytes = 300 << 10
	// maxLineLen is the longest line allowed in script and style files;
	// longer ones are taken for minified code.
	maxLineLen = 400
)

// Locales are the languages Kommo accepts in manifest.json's widget.locale.
var Locales = []string{"en", "es", "pt", "tr", "id"}

// knownLocations are Kommo's widget locations (cards and lists take a -0 or
// -1 suffix).
var knownLocations = map[string]bool{
	"lcard": true, "ccard": true, "comcard": true, "cucard": true, "llist": true, "clist": true, "tlist": true,
	"culist": true, "settings": false, "advanced_settings": false, "card_sdk": false, "catalogs": false,
	"digital_pipeline": false, "lead_sources": false, "widget_page": false, "sms": false, "mobile_card": false,
	"salesbot_designer": false, "website_chat_button": false, "everywhere": false,
}

// settingTypes are the field types of manifest.json's settings.
var settingTypes = map[string]bool{"text": true, "pass": true, "users": true, "users_lp": true, "custom": true}

// Problem is one failed check.
type Problem struct {
	File    string // path inside the widget, "" for the whole widget
	Message string
}

func (p Problem) String() string {
	if p.File == "" {
		return p.Message
	}
	return p.File + ": " + p.Message
}

// CheckError is returned by Build when Check finds problems.
type CheckError struct {
	Problems []Problem
}

func (e *CheckError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "widget: %d problem(s):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// manifest is the part of manifest.json the checks read.
type manifest struct {
	Widget struct {
		Name             *string         `json:"name"`
		Description      *string         `json:"description"`
		ShortDescription *string         `json:"short_description"`
		Version          *string         `json:"version"`
		InterfaceVersion *int            `json:"interface_version"`
		InitOnce         *bool           `json:"init_once"`
		Locale           []string        `json:"locale"`
		Installation     *bool           `json:"installation"`
		Support          json.RawMessage `json:"support"`
	} `json:"widget"`
	Locations []string `json:"locations"`
	Tour      *struct {
		IsTour      bool                `json:"is_tour"`
		Images      map[string][]string `json:"tour_images"`
		Description string              `json:"tour_description"`
	} `json:"tour"`
	Settings map[string]struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		Required *bool  `json:"required"`
	} `json:"settings"`
	Advanced *struct {
		Title string `json:"title"`
	} `json:"advanced"`
}

// allowedFile reports whether a path may be part of the widget.
func allowedFile(p string) bool {
	switch {
	case p == "manifest.json", p == "script.js", p == "style.css":
		return true
	case strings.HasPrefix(p, "i18n/") && path.Ext(p) == ".json" && strings.Count(p, "/") == 1:
		return true
	case strings.HasPrefix(p, "images/") && path.Ext(p) == ".png" && strings.Count(p, "/") == 1:
		return true
	case strings.HasPrefix(p, "templates/") && path.Ext(p) == ".twig" && strings.Count(p, "/") == 1:
		return true
	case strings.HasPrefix(p, "js/") && path.Ext(p) == ".js" && strings.Count(p, "/") == 1:
		return true
	}
	return false
}

var (
	evalRE    = regexp.MustCompile(`\beval\s*\(|\bnew\s+Function\s*\(|setTimeout\s*\(\s*['"]|setInterval\s*\(\s*['"]`)
	debugRE   = regexp.MustCompile(`\bconsole\.(log|debug|trace)\s*\(|\bdebugger\b|\balert\s*\(`)
	syncAjax  = regexp.MustCompile(`async\s*:\s*false`)
	scriptTag = regexp.MustCompile(`(?i)createElement\s*\(\s*['"]script['"]|<script`)
)

// Check runs the mechanical checks of Kommo's widget rules on the widget in
// fsys (the layout of src/): manifest keys and values (interface_version 2,
// locales, known locations without both -0 and -1 of one place, settings
// field types, advanced.title with advanced_settings, tour images), an i18n
// file for each locale and no other, every manifest i18n key present in every
// locale, the same keys in every locale, the logos at Kommo's sizes as PNGs
// of at most 300 KB, text files in UTF-8 without BOM with LF line ends, no
// eval, console.log, debugger, synchronous AJAX or injected script tags, no
// minified code (lines over 400 characters), and no files outside the
// widget's layout. It returns nil when everything passes.
func Check(fsys fs.FS) []Problem {
	var probs []Problem
	add := func(file, format string, args ...any) {
		probs = append(probs, Problem{File: file, Message: fmt.Sprintf(format, args...)})
	}
	files := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !allowedFile(p) {
			add(p, "is not part of a widget (manifest.json, script.js, style.css, i18n/, images/, templates/, js/ only)")
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files[p] = b
		return nil
	})
	if err != nil {
		add("", "cannot read the widget: %v", err)
		return probs
	}

	// Text files.
	for _, p := range slices.Sorted(maps.Keys(files)) {
		b := files[p]
		if path.Ext(p) == ".png" {
			continue
		}
		switch {
		case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
			add(p, "starts with a byte order mark; save it as UTF-8 without BOM")
		case !utf8.Valid(b):
			add(p, "is not valid UTF-8")
		}
		if bytes.IndexByte(b, '\r') >= 0 {
			add(p, "has CR line ends; use LF")
		}
		ext := path.Ext(p)
		if ext == ".js" || ext == ".css" {
			for i, line := range strings.Split(string(b), "\n") {
				if utf8.RuneCountInString(line) > maxLineLen {
					add(p, "line %d is %d characters long: minified code is not allowed", i+1, utf8.RuneCountInString(line))
					break
				}
			}
		}
		if ext == ".js" {
			code := stripJSComments(string(b))
			if evalRE.MatchString(code) {
				add(p, "uses eval or an equivalent (new Function, string timers)")
			}
			if debugRE.MatchString(code) {
				add(p, "has debugging leftovers (console.log, debugger, alert)")
			}
			if syncAjax.MatchString(code) {
				add(p, "makes synchronous AJAX requests")
			}
			if scriptTag.MatchString(code) {
				add(p, "injects script tags; load code with define dependencies")
			}
		}
		if ext == ".twig" && scriptTag.MatchString(string(b)) {
			add(p, "contains a script tag")
		}
	}

	// Manifest.
	raw, ok := files["manifest.json"]
	if !ok {
		add("manifest.json", "is missing")
		return probs
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		add("manifest.json", "is not valid JSON: %v", err)
		return probs
	}
	var i18nKeys []string
	needKey := func(field string, v *string) {
		switch {
		case v == nil || *v == "":
			add("manifest.json", "widget.%s is required", field)
		default:
			i18nKeys = append(i18nKeys, *v)
		}
	}
	needKey("name", m.Widget.Name)
	needKey("description", m.Widget.Description)
	needKey("short_description", m.Widget.ShortDescription)
	if m.Widget.Version == nil || *m.Widget.Version == "" {
		add("manifest.json", "widget.version is required")
	}
	if m.Widget.InterfaceVersion == nil || *m.Widget.InterfaceVersion != 2 {
		add("manifest.json", "widget.interface_version must be 2")
	}
	if m.Widget.InitOnce == nil {
		add("manifest.json", "widget.init_once is required")
	}
	if m.Widget.Installation == nil {
		add("manifest.json", "widget.installation is required")
	}
	if len(m.Widget.Locale) == 0 {
		add("manifest.json", "widget.locale must list at least one language")
	}
	for _, l := range m.Widget.Locale {
		if !slices.Contains(Locales, l) {
			add("manifest.json", "widget.locale: %q is not one of %s", l, strings.Join(Locales, ", "))
		}
	}
	if len(m.Locations) == 0 {
		add("manifest.json", "locations must not be empty")
	}
	seen := map[string]string{}
	for _, loc := range m.Locations {
		base, suffix, hasSuffix := strings.Cut(loc, "-")
		card, known := knownLocations[base]
		switch {
		case !known:
			add("manifest.json", "unknown location %q", loc)
		case card && (!hasSuffix || (suffix != "0" && suffix != "1")):
			add("manifest.json", "location %q needs a -0 or -1 suffix", loc)
		case !card && hasSuffix:
			add("manifest.json", "location %q takes no suffix", loc)
		}
		if other, dup := seen[base]; dup {
			add("manifest.json", "locations %q and %q cannot both be listed", other, loc)
		}
		seen[base] = loc
	}
	if m.Settings == nil {
		add("manifest.json", "settings is required")
	}
	for _, code := range slices.Sorted(maps.Keys(m.Settings)) {
		f := m.Settings[code]
		if !settingTypes[f.Type] {
			add("manifest.json", "settings.%s: unknown type %q", code, f.Type)
		}
		if f.Required == nil {
			add("manifest.json", "settings.%s: required must be given", code)
		}
		if f.Name == "" {
			add("manifest.json", "settings.%s: name is required", code)
		} else {
			i18nKeys = append(i18nKeys, f.Name)
		}
	}
	if slices.Contains(m.Locations, "advanced_settings") {
		if m.Advanced == nil || m.Advanced.Title == "" {
			add("manifest.json", "advanced.title is required with the advanced_settings location")
		} else {
			i18nKeys = append(i18nKeys, m.Advanced.Title)
		}
	}
	if m.Tour != nil {
		if !m.Tour.IsTour {
			add("manifest.json", "tour.is_tour accepts only true; leave tour out instead")
		}
		if m.Tour.Description != "" {
			i18nKeys = append(i18nKeys, m.Tour.Description)
		}
		for _, lang := range slices.Sorted(maps.Keys(m.Tour.Images)) {
			for _, img := range m.Tour.Images[lang] {
				p := strings.TrimPrefix(img, "/")
				if _, ok := files[p]; !ok {
					add("manifest.json", "tour image %q does not exist", img)
				}
			}
		}
	}

	// Locales.
	var firstKeys []string
	firstLocale := ""
	for _, l := range m.Widget.Locale {
		p := "i18n/" + l + ".json"
		b, ok := files[p]
		if !ok {
			add(p, "is missing (locale %q is in the manifest)", l)
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			add(p, "is not a JSON object: %v", err)
			continue
		}
		for _, k := range i18nKeys {
			if s, ok := lookup(doc, k); !ok || s == "" {
				add(p, "has no text for %q", k)
			}
		}
		keys := flatKeys(doc, "")
		if firstLocale == "" {
			firstLocale, firstKeys = l, keys
		} else if !slices.Equal(keys, firstKeys) {
			missing, extra := diffKeys(firstKeys, keys)
			add(p, "keys differ from %s.json (missing %v, extra %v)", firstLocale, missing, extra)
		}
	}
	for p := range files {
		if strings.HasPrefix(p, "i18n/") && !slices.Contains(m.Widget.Locale, strings.TrimSuffix(path.Base(p), ".json")) {
			add(p, "is not a locale of the manifest")
		}
	}

	// Images.
	for _, name := range slices.Sorted(maps.Keys(LogoSizes)) {
		sz := LogoSizes[name]
		p := "images/" + name
		b, ok := files[p]
		if !ok {
			add(p, "is missing (%d×%d PNG required)", sz.W, sz.H)
			continue
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		switch {
		case err != nil:
			add(p, "is not a PNG: %v", err)
		case cfg.Width != sz.W || cfg.Height != sz.H:
			add(p, "is %d×%d, Kommo requires %d×%d", cfg.Width, cfg.Height, sz.W, sz.H)
		}
	}
	for p, b := range files {
		if path.Ext(p) != ".png" {
			continue
		}
		if len(b) > MaxImageBytes {
			add(p, "is %d KB; images must be at most 300 KB", len(b)>>10)
		}
		if _, err := png.DecodeConfig(bytes.NewReader(b)); err != nil {
			add(p, "is not a PNG: %v", err)
		}
	}
	if _, ok := files["script.js"]; ok && !strings.Contains(string(files["script.js"]), "define(") {
		add("script.js", "must be an AMD module (define(…))")
	}
	slices.SortFunc(probs, func(a, b Problem) int { return strings.Compare(a.String(), b.String()) })
	return probs
}

// Build checks the widget in fsys and returns widget.zip: every file at the
// zip's root (no enclosing folder), in a fixed order with a fixed time so
// that the same sources give the same bytes, with Placeholder replaced by
// publicURL (an absolute http or https URL without query; trailing slashes are
// dropped) in every text file. It returns a *CheckError when Check finds
// problems and an EINVALID *callbridge.Error for a bad URL.
func Build(fsys fs.FS, publicURL string) ([]byte, error) {
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, callbridge.Errorf(callbridge.EINVALID, "The public URL must be an absolute http(s) URL such as https://cb.example.com (got %q).", publicURL)
	}
	base := strings.TrimRight(publicURL, "/")
	if probs := Check(fsys); len(probs) > 0 {
		return nil, &CheckError{Problems: probs}
	}
	var names []string
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	mod := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range names {
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		method := zip.Deflate
		if path.Ext(p) == ".png" {
			method = zip.Store
		} else {
			b = bytes.ReplaceAll(b, []byte(Placeholder), []byte(base))
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: p, Method: method, Modified: mod})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(b); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// stripJSComments removes // and /* */ comments outside string literals, so
// that prose in comments does not trip the code checks.
func stripJSComments(s string) string {
	var b strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			b.WriteByte(c)
			if c == '\\' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
			b.WriteByte(c)
		case c == '/' && i+1 < len(s) && s[i+1] == '/':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			b.WriteByte('\n')
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return b.String()
			}
			i += end + 3
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// lookup finds a dotted key ("widget.name") in an i18n document.
func lookup(doc map[string]any, key string) (string, bool) {
	var cur any = doc
	for _, part := range strings.Split(key, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		if cur, ok = m[part]; !ok {
			return "", false
		}
	}
	s, ok := cur.(string)
	return s, ok
}

// flatKeys lists the dotted paths of every string in doc, sorted.
func flatKeys(doc map[string]any, prefix string) []string {
	var out []string
	for k, v := range doc {
		switch v := v.(type) {
		case map[string]any:
			out = append(out, flatKeys(v, prefix+k+".")...)
		default:
			out = append(out, prefix+k)
		}
	}
	slices.Sort(out)
	return out
}

func diffKeys(want, got []string) (missing, extra []string) {
	for _, k := range want {
		if !slices.Contains(got, k) {
			missing = append(missing, k)
		}
	}
	for _, k := range got {
		if !slices.Contains(want, k) {
			extra = append(extra, k)
		}
	}
	return missing, extra
}
