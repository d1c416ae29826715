// Package http is callbridge's HTTP server: provider webhooks, Kommo's OAuth
// install and disconnect hooks, the widget API, the recording proxy, health
// checks, metrics, the operator pages and River's UI. It is where most of
// callbridge's tenancy and security rules are enforced: webhook tokens and
// provider signatures, widget tokens, signed recording links, bounded bodies.
//
// The package is named after net/http, which it imports as nethttp.
package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	nethttp "net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"callbridge"
)

// Defaults and limits.
const (
	// DefaultAddr is the listen address when Server.Addr is empty.
	DefaultAddr = ":8080"
	// DefaultMaxBodyBytes bounds webhook and API bodies when
	// Server.MaxBodyBytes is zero: 64 KiB.
	DefaultMaxBodyBytes = 64 << 10
	// readyTimeout bounds one call of Server.Ready.
	readyTimeout = 5 * time.Second
)

// Ingester records inputs about calls. It is implemented by package pipeline.
type Ingester interface {
	// Ingest stores one webhook's events for conn in one transaction and
	// schedules the sync.
	Ingest(ctx context.Context, conn *callbridge.Connection, events []callbridge.CallEvent) error
	// SaveResult records a manager's call result for a call of acct
	// (ENOTFOUND if the call is not the account's).
	SaveResult(ctx context.Context, acct *callbridge.Account, in callbridge.ResultInput) (*callbridge.Call, error)
}

// Server is callbridge's HTTP server. Set its fields, then call Open (or
// mount Handler in a server of your own). Fields must not change once the
// server is serving.
type Server struct {
	// Addr is the listen address (default ":8080"; ":0" picks a free port).
	Addr string
	// PublicURL is the server's public base URL, e.g. "https://cb.example.com"
	// (a path prefix is allowed, no trailing slash needed). Webhook signatures
	// are validated against PublicURL + path + query, never the Host header,
	// and webhook and recording URLs are built from it. When empty, URL() is
	// used, which only suits local development.
	PublicURL string

	// Store is the database. Required.
	Store callbridge.Store
	// Connectors are the providers' connectors by Connector.Name, i.e. by
	// Connection.Provider. A connection whose provider has no connector gets
	// 503 on its webhooks.
	Connectors map[string]callbridge.Connector
	// Ingester records webhook events and call results. Required.
	Ingester Ingester

	// ClientID and ClientSecret are the Kommo integration's. The secret
	// verifies widget tokens (X-Auth-Token) and the disconnect hook; with an
	// empty secret both are refused.
	ClientID, ClientSecret string
	// WidgetAudience, when set, must equal the widget token's aud claim
	// (Kommo sets it from the integration's redirect URI). Optional.
	WidgetAudience string

	// RecordingKey verifies /rec/ links (callbridge.ParseRecordingToken) and
	// signs the links the widget API returns. With an empty key every link is
	// refused.
	RecordingKey []byte
	// RecordingLinkTTL is the lifetime of recording links returned by the
	// widget API (default 1 h).
	RecordingLinkTTL time.Duration

	// HTTPClient streams recordings from providers. The default has connect,
	// TLS and response-header timeouts (10 s, 10 s, 30 s), no overall timeout
	// (recordings are streamed), and follows at most 5 redirects, never from
	// https to http.
	HTTPClient *nethttp.Client

	// MaxBodyBytes bounds webhook and API request bodies (default 64 KiB).
	// Larger bodies are refused with 413 and nothing is stored.
	MaxBodyBytes int64

	// AllowedOrigins are extra CORS origins for the widget API, exact
	// ("https://crm.example.com") or with a leading wildcard label
	// ("https://*.example.com"). https://*.kommo.com, https://*.amocrm.com
	// and https://*.amocrm.ru are always allowed.
	AllowedOrigins []string

	// Ready reports whether the server can do its work (/readyz); nil means
	// always ready. It is called with a 5 s timeout.
	Ready func(ctx context.Context) error
	// Metrics is mounted at GET /metrics when set.
	Metrics nethttp.Handler
	// Mounts are extra handlers by ServeMux pattern or prefix, e.g.
	// "/riverui/". They must not overlap the server's own routes (a
	// conflicting pattern makes Handler panic). They are served as is: put
	// them behind operator authentication before exposing them.
	Mounts map[string]nethttp.Handler

	// Router, when set, gives each webhook a routing function from its
	// connection and the connection's account, for providers whose
	// incoming-call webhook is synchronous (smart forwarding); see
	// callbridge.WebhookRequest.Route.
	Router func(acct *callbridge.Account, conn *callbridge.Connection) callbridge.Router

	// Kommo is the Kommo API the widget endpoints use to recognise
	// administrators (settings, setup). Nil: those writes answer 503.
	Kommo WidgetKommo
	// Realtime is the widget's realtime channel (NewRealtime). Nil: the
	// ticket and WebSocket endpoints answer 503.
	Realtime *Realtime
	// CallLists stores the widget's call lists. Nil: Store is used when it
	// implements callbridge.CallListStore; otherwise the call list endpoints
	// answer 503.
	CallLists callbridge.CallListStore

	// OperatorToken protects the operator pages (/operator/) and River's UI
	// (/riverui/): HTTP basic auth with any user name and the token as
	// password, or "Authorization: Bearer <token>". Empty: neither exists
	// (404). Use a long random value.
	OperatorToken string
	// Jobs lists and retries jobs on the operator pages (store.JobAdmin).
	// Nil: the pages show no jobs.
	Jobs OperatorJobs
	// RiverUI is River's web UI (NewRiverUI), served at /riverui/ behind
	// OperatorToken. Nil: not served.
	RiverUI nethttp.Handler

	// Logger receives the access log and errors (default slog.Default()).
	Logger *slog.Logger
	// Now returns the current time (default time.Now).
	Now func() time.Time

	mu     sync.Mutex
	ln     net.Listener
	server *nethttp.Server
	client *nethttp.Client
	admins adminCache
	// targets are the connections and accounts of recent webhooks.
	targets ttlCache[string, webhookTarget]
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) maxBody() int64 {
	if s.MaxBodyBytes > 0 {
		return s.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

// baseURL is PublicURL without a trailing slash, or URL() when unset.
func (s *Server) baseURL() string {
	if s.PublicURL != "" {
		return strings.TrimRight(s.PublicURL, "/")
	}
	return s.URL()
}

// Handler returns the server's routes wrapped in its middleware (request id,
// access log, panic recovery). Every call builds a new handler.
func (s *Server) Handler() nethttp.Handler {
	mux := nethttp.NewServeMux()

	// Provider webhooks. GET is accepted for providers that call back with
	// GET; the connector decides what it accepts.
	mux.HandleFunc("POST /webhooks/{token}", s.handleWebhook)
	mux.HandleFunc("POST /webhooks/{token}/{rest...}", s.handleWebhook)
	mux.HandleFunc("GET /webhooks/{token}", s.handleWebhook)
	mux.HandleFunc("GET /webhooks/{token}/{rest...}", s.handleWebhook)

	// Kommo OAuth install and disconnect hooks.
	mux.HandleFunc("GET /oauth/install", s.handleInstall)
	mux.HandleFunc("GET /oauth/disconnect", s.handleDisconnect)

	// Widget API: CORS, then X-Auth-Token.
	mux.Handle("OPTIONS /api/widget/", s.cors(nethttp.HandlerFunc(s.handlePreflight)))
	mux.Handle("POST /api/widget/calls/result", s.widget(s.handleSaveResult))
	mux.Handle("GET /api/widget/calls/{uid}", s.widget(s.handleGetCall))
	mux.Handle("POST /api/widget/connections", s.widget(s.handleCreateConnection))
	mux.Handle("GET /api/widget/connections", s.widget(s.handleListConnections))
	s.registerWidgetRoutes(mux)
	mux.Handle("/api/widget/", s.cors(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		Error(w, r, callbridge.Errorf(callbridge.ENOTFOUND, "No such endpoint."))
	})))

	// Recording proxy.
	mux.HandleFunc("GET /rec/{token}", s.handleRecording)

	// Operations.
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
	s.registerOperatorRoutes(mux)
	for pattern, h := range s.Mounts {
		mux.Handle(pattern, h)
	}
	return s.observe(mux)
}

// Open listens on Addr and serves Handler in the background. URL reports the
// address once Open returns.
//
// Open refuses a PublicURL that is not an absolute http(s) URL without query
// or fragment.
func (s *Server) Open() error {
	if s.PublicURL != "" {
		u, err := url.Parse(s.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("http: PublicURL %q must be an absolute http(s) URL such as https://cb.example.com", s.PublicURL)
		}
	}
	addr := s.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &nethttp.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// No WriteTimeout: recordings are streamed for as long as they take.
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(s.logger().Handler(), slog.LevelWarn),
	}
	s.mu.Lock()
	s.ln, s.server = ln, srv
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, nethttp.ErrServerClosed) {
			s.logger().Error("http server stopped", slog.String("error", err.Error()))
		}
	}()
	return nil
}

// Close stops accepting connections and waits, until ctx is done, for
// in-flight requests to finish; then it closes the remaining connections.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	srv := s.server
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
		return err
	}
	return nil
}

// URL returns the local base URL of the open server, e.g.
// "http://localhost:8080", or "" before Open. An unspecified listen host is
// reported as localhost.
func (s *Server) URL() string {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return ""
	}
	host, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		return "http://" + ln.Addr().String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// handleHealth answers GET /healthz: the process is up.
func (s *Server) handleHealth(w nethttp.ResponseWriter, r *nethttp.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// handleReady answers GET /readyz: 200 when Ready succeeds, 503 otherwise.
func (s *Server) handleReady(w nethttp.ResponseWriter, r *nethttp.Request) {
	if s.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.Ready(ctx); err != nil {
			Error(w, r, &callbridge.Error{Code: callbridge.EUNAVAILABLE, Kind: callbridge.KindTransient, Message: "Not ready.", Err: err})
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ready\n"))
}
