package main

import (
	"context"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"callbridge/sandbox"
)

// SandboxCommand serves the Kommo emulator.
type SandboxCommand struct{}

// Run serves the emulator until ctx is cancelled.
func (c *SandboxCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("callbridge sandbox", flag.ContinueOnError)
	addr := fs.String("addr", env("sandbox-addr", "127.0.0.1:8081"), "listen address (env CALLBRIDGE_SANDBOX_ADDR)")
	var cfg sandbox.Config
	fs.StringVar(&cfg.ClientID, "client-id", env("kommo-client-id", "sandbox-client"), "integration id (env CALLBRIDGE_KOMMO_CLIENT_ID)")
	fs.StringVar(&cfg.ClientSecret, "client-secret", env("kommo-client-secret", "sandbox-secret"), "integration secret (env CALLBRIDGE_KOMMO_CLIENT_SECRET)")
	fs.StringVar(&cfg.RedirectURI, "redirect-uri", env("kommo-redirect-uri", "http://localhost:8080/oauth/install"), "callbridge's install URL")
	fs.StringVar(&cfg.DisconnectURL, "disconnect-url", "http://localhost:8080/oauth/disconnect", "callbridge's disconnect hook")
	fs.StringVar(&cfg.WebhookURL, "webhook-url", "", "account webhook target (incoming lead accept/decline)")
	fs.DurationVar(&cfg.RetryAfter, "retry-after", 300*time.Second, "retry_after of 429 answers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	cfg.Host = ln.Addr().String()
	emu := sandbox.New(cfg)
	defer emu.Close()
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	logger.Info("Kommo sandbox serving", "url", "http://"+cfg.Host, "client_id", cfg.ClientID,
		"controls", "http://"+cfg.Host+"/sandbox/state")
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
