package http

import (
	"context"
	"log/slog"
	nethttp "net/http"

	"github.com/riverqueue/river"
	"riverqueue.com/riverui"
)

// RiverUIPrefix is the path River's UI is served under.
const RiverUIPrefix = "/riverui"

// RiverUI is River's web UI (riverqueue.com/riverui) over one database's job
// queue. Set it as Server.RiverUI: the server serves it at /riverui/ behind
// the operator token. It must be started (Start) before it serves.
type RiverUI struct {
	h *riverui.Handler
}

// NewRiverUI builds River's UI over client, the database's River client
// (sqlite.DB.RiverClient or postgres.DB.RiverClient, taken after
// ConfigureJobs). logger receives the UI's errors and must not be nil.
func NewRiverUI[TTx any](client *river.Client[TTx], logger *slog.Logger) (*RiverUI, error) {
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(client, nil),
		Logger:    logger,
		Prefix:    RiverUIPrefix,
		// Job arguments carry account and call ids only, but hide them by
		// default all the same.
		JobListHideArgsByDefault: true,
	})
	if err != nil {
		return nil, err
	}
	return &RiverUI{h: h}, nil
}

// Start starts the UI's background services (query caches); they run until
// ctx is cancelled.
func (u *RiverUI) Start(ctx context.Context) error { return u.h.Start(ctx) }

// ServeHTTP serves the UI and its API under RiverUIPrefix.
func (u *RiverUI) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) { u.h.ServeHTTP(w, r) }
