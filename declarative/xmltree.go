package declarative

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// node is one element of a definition file, with the line it starts on.
type node struct {
	name     string
	line     int
	attrs    []xml.Attr
	children []*node
	text     strings.Builder // direct character data and CDATA, concatenated

	usedAttrs map[string]bool
	used      bool
}

// readTree parses a well-formed XML document into a tree of nodes. Only the
// first problem of a malformed document can be reported (the XML decoder
// stops there); it carries its line.
func readTree(r io.Reader) (*node, []Problem) {
	data, err := io.ReadAll(io.LimitReader(r, MaxDefinitionBytes+1))
	if err != nil {
		return nil, []Problem{{Message: "cannot read the definition: " + err.Error()}}
	}
	if len(data) > MaxDefinitionBytes {
		return nil, []Problem{{Message: "the definition is larger than 1 MiB"}}
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var root *node
	var stack []*node
	for {
		line, _ := d.InputPos()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, []Problem{xmlProblem(err, line)}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return nil, []Problem{{Line: line, Message: "elements are nested too deeply"}}
			}
			n := &node{name: t.Name.Local, line: line, attrs: t.Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, []Problem{{Line: line, Message: "more than one root element"}}
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, []Problem{{Line: line, Message: "text outside the root element"}}
			}
		}
	}
	if root == nil {
		return nil, []Problem{{Message: "the definition is empty: no <connector> element"}}
	}
	return root, nil
}

// xmlProblem turns a decoder error into a problem with a line number.
func xmlProblem(err error, line int) Problem {
	if se, ok := errors.AsType[*xml.SyntaxError](err); ok {
		return Problem{Line: se.Line, Message: "not well-formed XML: " + se.Msg}
	}
	return Problem{Line: line, Message: "not well-formed XML: " + err.Error()}
}

// attr returns the value of an attribute (matched by local name) and marks it
// read.
func (n *node) attr(name string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Local == name && a.Name.Space != "xmlns" {
			if n.usedAttrs == nil {
				n.usedAttrs = map[string]bool{}
			}
			n.usedAttrs[name] = true
			return a.Value, true
		}
	}
	return "", false
}

// get returns an attribute's value, or "".
func (n *node) get(name string) string {
	v, _ := n.attr(name)
	return v
}

// getAny returns the value of the first attribute present among names.
func (n *node) getAny(names ...string) (string, bool) {
	for _, name := range names {
		if v, ok := n.attr(name); ok {
			return v, true
		}
	}
	return "", false
}

// kids returns the children called name, marking them read.
func (n *node) kids(names ...string) []*node {
	var out []*node
	for _, c := range n.children {
		for _, name := range names {
			if c.name == name {
				c.used = true
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// kid returns the first child called name, or nil.
func (n *node) kid(names ...string) *node {
	if k := n.kids(names...); len(k) > 0 {
		return k[0]
	}
	return nil
}

// value returns an attribute, or the text of a child element of the same
// name: <auth username="…"/> and <auth><username>…</username></auth> are the
// same. The second result is the line of the value.
func (n *node) value(name string) (string, int, bool) {
	if v, ok := n.attr(name); ok {
		return v, n.line, true
	}
	if k := n.kid(name); k != nil {
		return strings.TrimSpace(k.text.String()), k.line, true
	}
	return "", 0, false
}

// unused reports the attributes and children nobody read, as warnings.
func (n *node) unused(warn func(line int, format string, args ...any)) {
	for _, a := range n.attrs {
		if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" || a.Name.Space != "" {
			continue
		}
		if !n.usedAttrs[a.Name.Local] {
			warn(n.line, "unknown attribute %s on <%s> (ignored)", a.Name.Local, n.name)
		}
	}
	for _, c := range n.children {
		if !c.used {
			warn(c.line, "unknown element <%s> in <%s> (ignored)", c.name, n.name)
			continue
		}
		c.unused(warn)
	}
}
