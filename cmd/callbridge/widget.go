package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"callbridge/widget"
)

// WidgetCommand builds the Kommo widget archive.
//
//	callbridge widget build [-public-url URL] [-o widget.zip] [-src DIR]
type WidgetCommand struct{}

// Run checks the widget sources mechanically and writes widget.zip with the
// server's public URL filled in.
func (c *WidgetCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "build" {
		return fmt.Errorf("usage: callbridge widget build [-public-url URL] [-o widget.zip] [-src DIR]")
	}
	fs := flag.NewFlagSet("callbridge widget build", flag.ContinueOnError)
	publicURL := fs.String("public-url", env("public-url", ""), "the server's public https URL the widget talks to (env CALLBRIDGE_PUBLIC_URL)")
	out := fs.String("o", "widget.zip", "output file")
	src := fs.String("src", "", "widget sources directory (default: the sources built into this binary)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *publicURL == "" {
		return fmt.Errorf("-public-url is required: the widget must know where callbridge is")
	}
	source := widget.Source()
	if *src != "" {
		source = os.DirFS(*src)
	}
	zip, err := widget.Build(source, *publicURL)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, zip, 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s (%d bytes) for %s\n", *out, len(zip), *publicURL)
	return nil
}
