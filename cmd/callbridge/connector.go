package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"

	"callbridge"
	"callbridge/declarative"
)

// ConnectorCommand checks declarative connector files.
//
//	callbridge connector check FILE [PAYLOAD] [-header 'K: V'] [-credential k=v] [-time-zone Z]
type ConnectorCommand struct {
	Out io.Writer // default os.Stdout
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ", ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// Run validates FILE, printing every problem with its line; with PAYLOAD it
// replays that captured webhook body through the file and prints the events.
func (c *ConnectorCommand) Run(ctx context.Context, args []string) error {
	out := c.Out
	if out == nil {
		out = os.Stdout
	}
	if len(args) == 0 || args[0] != "check" {
		return fmt.Errorf("usage: callbridge connector check FILE [PAYLOAD] [flags]")
	}
	fs := flag.NewFlagSet("callbridge connector check", flag.ContinueOnError)
	var headers, creds multiFlag
	fs.Var(&headers, "header", "a request header of the replayed webhook, 'Name: value' (repeatable); X-Callbridge-Query carries a GET query")
	fs.Var(&creds, "credential", "a connection setting, name=value (repeatable), e.g. the shared secret the signature uses")
	tz := fs.String("time-zone", "UTC", "the connection's time zone for naive provider timestamps")
	// Flags may follow the positional arguments.
	var pos []string
	rest := args[1:]
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(pos) == 0 || len(pos) > 2 {
		return fmt.Errorf("usage: callbridge connector check FILE [PAYLOAD] [flags]")
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	def, err := declarative.Parse(f, pos[0])
	if err != nil {
		if pe, ok := errors.AsType[*declarative.ParseError](err); ok {
			fmt.Fprintf(out, "%s: %d problem(s):\n", pos[0], len(pe.Problems))
			for _, p := range pe.Problems {
				fmt.Fprintf(out, "  %s\n", p)
			}
			return fmt.Errorf("%s is not a valid connector", pos[0])
		}
		return err
	}
	fmt.Fprintf(out, "%s: connector %q is valid (capabilities: %s)\n", pos[0], def.Name, strings.Join(def.Capabilities(), ", "))
	for _, w := range def.Warnings {
		fmt.Fprintf(out, "  warning: %s\n", w)
	}
	if len(pos) == 1 {
		return nil
	}
	payload, err := os.ReadFile(pos[1])
	if err != nil {
		return err
	}
	h := http.Header{}
	for _, kv := range headers {
		k, v, ok := strings.Cut(kv, ":")
		if !ok {
			return fmt.Errorf("-header %q: want 'Name: value'", kv)
		}
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	conn := &callbridge.Connection{ID: 1, AccountID: 1, Provider: def.Name, TimeZone: *tz, Credentials: map[string]string{}}
	for _, kv := range creds {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("-credential %q: want name=value", kv)
		}
		conn.Credentials[k] = v
	}
	events, err := declarative.Replay(def, conn, payload, h)
	if err != nil {
		return fmt.Errorf("replay %s: %s (%s)", pos[1], callbridge.ErrorMessage(err), callbridge.ErrorCode(err))
	}
	fmt.Fprintf(out, "\n%s maps to %d event(s):\n", pos[1], len(events))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tTYPE\tCALL\tLEG\tSTATUS\tDIRECTION\tCUSTOMER\tLINE\tAGENT\tDURATION\tTIME\tRECORDING")
	for _, e := range events {
		at := "-"
		if !e.OccurredAt.IsZero() {
			at = e.OccurredAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.Key, e.Type, e.ProviderCallID, e.LegID, e.Status,
			e.Direction, e.CustomerNumber, e.LineNumber, e.Agent, e.Duration, at, e.RecordingURL)
	}
	return tw.Flush()
}
