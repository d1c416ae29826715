// Command callbridge logs VoIP calls into Kommo exactly once.
//
//	callbridge [serve]      run the server (default; SQLite file, no configuration needed)
//	callbridge migrate      apply database migrations and exit
//	callbridge sandbox      run the Kommo emulator on its own port
//	callbridge demo         drive signed Twilio calls through callbridge into the emulator
//	callbridge bench        measure ingest throughput, latency and Kommo requests per call
//	callbridge connector check FILE [PAYLOAD]
//	callbridge widget build
//
// Every command takes -h for its flags; flags can also be set with
// CALLBRIDGE_* environment variables (docs/configuration.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signalContext()
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "callbridge:", err)
		}
		os.Exit(1)
	}
}

// signalContext is cancelled by SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func run(ctx context.Context, args []string) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return (&ServeCommand{}).Run(ctx, args)
	case "migrate":
		return (&MigrateCommand{}).Run(ctx, args)
	case "sandbox":
		return (&SandboxCommand{}).Run(ctx, args)
	case "demo":
		return (&DemoCommand{}).Run(ctx, args)
	case "bench":
		return (&BenchCommand{}).Run(ctx, args)
	case "connector":
		return (&ConnectorCommand{}).Run(ctx, args)
	case "widget":
		return (&WidgetCommand{}).Run(ctx, args)
	case "version":
		fmt.Println(version())
		return nil
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `Usage: callbridge <command> [flags]

Commands:
  serve     run the server (default): SQLite file ./callbridge.db unless --db says otherwise
  migrate   apply database migrations and exit
  sandbox   run the Kommo emulator (a Kommo account for development and tests)
  demo      run a self-checking demo: emulator + callbridge + signed Twilio calls
  bench     measure ingest throughput and latency, hang-up → Kommo latency, Kommo requests per call
  connector check FILE [PAYLOAD]   validate a declarative connector file; replay a captured webhook
  widget build                     write widget.zip for Kommo with this server's URL
  version   print the version

Run 'callbridge <command> -h' for the flags of a command.
`
