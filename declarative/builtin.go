package declarative

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"callbridge"
)

//go:embed builtin/*.xml
var builtinFS embed.FS

// Builtins returns the definitions embedded in the binary, by name: plivo,
// exotel, ozonetel and telzio. Each call parses them afresh, so callers may
// keep the map. An embedded definition that does not parse is a bug; the
// package's tests guarantee they all do, and Builtins panics otherwise.
func Builtins() map[string]*Definition {
	entries, err := builtinFS.ReadDir("builtin")
	if err != nil {
		panic(err)
	}
	out := map[string]*Definition{}
	for _, e := range entries {
		b, err := builtinFS.ReadFile("builtin/" + e.Name())
		if err != nil {
			panic(err)
		}
		d, err := Parse(bytes.NewReader(b), e.Name())
		if err != nil {
			panic(fmt.Sprintf("declarative: built-in definition %s: %v", e.Name(), err))
		}
		out[d.Name] = d
	}
	return out
}

// BuiltinSource returns the XML of the built-in definition called name, for
// operators who want to copy and adapt it.
func BuiltinSource(name string) ([]byte, bool) {
	b, err := builtinFS.ReadFile("builtin/" + name + ".xml")
	return b, err == nil
}

// LoadDir parses every *.xml file of dir (not its subdirectories). It returns
// the definitions that loaded, by name, and an error listing every file that
// did not (each with its problems and lines) or names used twice. A missing
// directory is an error.
func LoadDir(dir string) (map[string]*Definition, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &callbridge.Error{Code: callbridge.EINVALID, Message: fmt.Sprintf("Cannot read the connector directory %s.", dir), Err: err}
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".xml") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	out := map[string]*Definition{}
	from := map[string]string{}
	var errs []error
	for _, name := range names {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		d, err := Parse(f, name)
		f.Close()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := from[d.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: connector name %q is also used by %s", name, d.Name, prev))
			continue
		}
		from[d.Name] = name
		out[d.Name] = d
	}
	if len(errs) > 0 {
		joined := errors.Join(errs...)
		return out, &callbridge.Error{Code: callbridge.EINVALID, Message: joined.Error(), Err: joined}
	}
	return out, nil
}

// Replay runs a captured webhook payload through a definition as the
// connector would, without authentication and wherever it was sent: the
// first callback section (in document order) whose method and when condition
// accept it handles it. headers are the webhook's headers (Content-Type picks
// JSON or form; header paths read them); a nil conn means no configuration.
// A query string can be given as a header "X-Callbridge-Query" (for GET
// webhooks such as Exotel's). The events are what would be stored, payload
// redacted.
func Replay(def *Definition, conn *callbridge.Connection, payload []byte, headers http.Header) ([]callbridge.CallEvent, error) {
	if def == nil {
		return nil, callbridge.Errorf(callbridge.EINVALID, "No definition to replay against.")
	}
	if conn == nil {
		conn = &callbridge.Connection{Provider: def.Name}
	}
	if headers == nil {
		headers = http.Header{}
	}
	method := http.MethodPost
	u := "https://replay.invalid/webhooks/replay"
	if q := headers.Get("X-Callbridge-Query"); q != "" {
		u += "?" + strings.TrimPrefix(q, "?")
		if len(bytes.TrimSpace(payload)) == 0 {
			method = http.MethodGet
		}
	}
	req := &callbridge.WebhookRequest{URL: u, Method: method, Header: headers, Body: payload, ReceivedAt: time.Now().UTC()}
	c := *conn
	c.Token = "replay"
	events, _, err := def.handle(context.Background(), &c, req, true)
	return events, err
}
