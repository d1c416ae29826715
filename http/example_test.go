package http_test

import (
	"context"
	"log/slog"
	"time"

	"callbridge"
	cbhttp "callbridge/http"
)

// A Server is wired from the store, the pipeline's ingester and the
// connectors; cmd/callbridge does this from its configuration.
func ExampleServer() {
	var (
		store    callbridge.Store     // sqlite or postgres
		ingester cbhttp.Ingester      // pipeline.Ingester
		twilio   callbridge.Connector // twilio.Connector
		key      = make([]byte, 32)   // from the environment
		logger   = slog.Default()
	)
	s := &cbhttp.Server{
		Addr:         ":8080",
		PublicURL:    "https://cb.example.com",
		Store:        store,
		Ingester:     ingester,
		Connectors:   map[string]callbridge.Connector{"twilio": twilio},
		ClientID:     "kommo-integration-id",
		ClientSecret: "kommo-integration-secret",
		RecordingKey: key,
		Logger:       logger,
	}
	if err := s.Open(); err != nil {
		logger.Error("listen", "error", err)
		return
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	}()
	// … serve until a signal arrives.
}
