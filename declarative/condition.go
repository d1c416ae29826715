package declarative

import (
	"fmt"
	"strconv"
	"strings"
)

// A condition tests one operand: a payload path, $header.NAME, $query.NAME,
// $config.$fields.NAME or a placeholder (@name).
//
//	PATH            the operand is not empty
//	!PATH           the operand is empty
//	PATH=a|b        it equals one of the values (case-insensitive)
//	PATH!=a|b       it equals none of them
//	PATH>N, PATH<N, PATH>=N, PATH<=N   numeric comparisons
//
// Several conditions joined by " and " must all hold.
type cond struct {
	neg     bool
	operand *tref
	op      string
	values  []string
	num     float64
}

// conds is a conjunction.
type conds []cond

// compileConds compiles a when attribute.
func (c *compiler) compileConds(s string, line int) conds {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	var out conds
	for _, part := range strings.Split(s, " and ") {
		part = strings.TrimSpace(part)
		if part == "" {
			c.fail(line, "empty condition in %q", clip(s))
			continue
		}
		cd, err := c.cond(part, line)
		if err != nil {
			c.fail(line, "condition %q: %v", clip(part), err)
			continue
		}
		out = append(out, cd)
	}
	return out
}

func (c *compiler) cond(s string, line int) (cond, error) {
	var cd cond
	if strings.HasPrefix(s, "!") {
		cd.neg = true
		s = strings.TrimSpace(s[1:])
	}
	operand := s
	for _, op := range []string{"!=", ">=", "<=", "=", ">", "<"} {
		if i := strings.Index(s, op); i > 0 {
			operand, cd.op = strings.TrimSpace(s[:i]), op
			rest := strings.TrimSpace(s[i+len(op):])
			switch op {
			case "=", "!=":
				cd.values = strings.Split(rest, "|")
				for i := range cd.values {
					cd.values[i] = strings.TrimSpace(cd.values[i])
				}
			default:
				n, err := strconv.ParseFloat(rest, 64)
				if err != nil {
					return cd, fmt.Errorf("%q is not a number", rest)
				}
				cd.num = n
			}
			break
		}
	}
	if cd.neg && cd.op != "" {
		return cd, fmt.Errorf("! only applies to a bare operand")
	}
	r, err := c.operand(operand, line)
	if err != nil {
		return cd, err
	}
	cd.operand = r
	return cd, nil
}

// operand compiles a bare reference: "$…", "@…" or a payload path.
func (c *compiler) operand(s string, line int) (*tref, error) {
	if s == "" {
		return nil, fmt.Errorf("missing operand")
	}
	if s[0] == '$' || s[0] == '@' {
		r, n := c.ref(s, line)
		if r == nil || n != len(s) {
			return nil, fmt.Errorf("bad reference %q", s)
		}
		return r, nil
	}
	p, err := compilePath(s)
	if err != nil {
		return nil, err
	}
	return &tref{kind: refPayload, name: s, path: p}, nil
}

// holds evaluates the conjunction.
func (cs conds) holds(e *env) bool {
	for _, c := range cs {
		if !c.holds(e) {
			return false
		}
	}
	return true
}

func (c cond) holds(e *env) bool {
	v := strings.TrimSpace(c.operand.eval(e).String(e.loc))
	switch c.op {
	case "":
		return (v != "") != c.neg
	case "=":
		return oneOf(v, c.values)
	case "!=":
		return !oneOf(v, c.values)
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil {
		if d := parseDuration(v, ""); d > 0 || v == "00:00:00" {
			n, err = float64(d), nil
		}
	}
	if err != nil {
		return false
	}
	switch c.op {
	case ">":
		return n > c.num
	case "<":
		return n < c.num
	case ">=":
		return n >= c.num
	case "<=":
		return n <= c.num
	}
	return false
}

func oneOf(v string, list []string) bool {
	for _, x := range list {
		if strings.EqualFold(v, x) {
			return true
		}
	}
	return false
}
