package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the server's configuration. Every field has a flag and a
// CALLBRIDGE_* environment variable; flags win. docs/configuration.md lists
// them with their defaults.
type Config struct {
	Addr      string // listen address
	PublicURL string // the URL providers and Kommo reach this server at
	DB        string // SQLite path, or a postgres:// URL
	DBSchema  string // PostgreSQL schema for callbridge's and River's tables; default the URL's search_path

	SecretKey     string // base64 AES-256 key for secrets at rest (CALLBRIDGE_SECRET_KEY)
	SecretKeyFile string // key file, created when missing; default next to the SQLite file

	KommoClientID     string
	KommoClientSecret string
	KommoRedirectURI  string // default PublicURL + "/oauth/install"
	KommoBaseURL      string // API origin for every account (the emulator); default https://{subdomain}.kommo.com
	KommoRPS          float64
	KommoBatchWait    time.Duration
	// KommoLocalLimit gives this process a Kommo rate budget of its own even
	// on PostgreSQL, where replicas otherwise share one through the database
	// (postgres.Limiter). SQLite always uses the in-process limiter.
	KommoLocalLimit bool
	// KommoEgress names the IP address requests to Kommo leave from; replicas
	// with the same name share one per-IP budget (default "default").
	KommoEgress string

	Hold        time.Duration // delay of the first write after hang-up
	Workers     int           // concurrent sync jobs
	JobTimeout  time.Duration // a job's deadline
	RescueAfter time.Duration // when a dead replica's running jobs are retried (PostgreSQL)

	TwilioAPIBase  string
	RecordingHosts string // extra comma-separated provider hosts recordings may come from (simulators)
	ConnectorsDir  string // operators' declarative connector files (*.xml)
	AllowedOrigins string // extra comma-separated CORS origins for the widget API

	LogFormat string // json or text
	LogLevel  string // debug, info, warn, error

	// OperatorToken protects the operator pages and River's UI; empty
	// disables them. At least 16 characters.
	OperatorToken string
	// DrainDelay is how long, after SIGTERM, /readyz answers 503 while the
	// server keeps serving, before it stops accepting requests (so that a
	// load balancer stops sending first). Default 0.
	DrainDelay time.Duration
	// ShutdownTimeout bounds the drain of in-flight requests and running
	// jobs after SIGTERM (default 30 s); jobs still running then are
	// cancelled and retried by a replica.
	ShutdownTimeout time.Duration
}

func (c *Config) flags(fs *flag.FlagSet) {
	str := func(p *string, name, def, usage string) {
		fs.StringVar(p, name, env(name, def), usage+" (env "+envName(name)+")")
	}
	str(&c.Addr, "addr", ":8080", "listen address")
	str(&c.PublicURL, "public-url", "", "public base URL of this server; default http://localhost<addr>")
	str(&c.DB, "db", "callbridge.db", "SQLite file path or postgres:// URL")
	str(&c.DBSchema, "db-schema", "", "PostgreSQL schema (created if missing); default the URL's search_path")
	str(&c.SecretKey, "secret-key", "", "base64 32-byte key encrypting secrets at rest")
	str(&c.SecretKeyFile, "secret-key-file", "", "key file (created if missing); default <db>.key for SQLite")
	str(&c.KommoClientID, "kommo-client-id", "", "Kommo integration id")
	str(&c.KommoClientSecret, "kommo-client-secret", "", "Kommo integration secret key")
	str(&c.KommoRedirectURI, "kommo-redirect-uri", "", "the integration's redirect URI; default <public-url>/oauth/install")
	str(&c.KommoBaseURL, "kommo-base-url", "", "Kommo API origin for every account, e.g. the sandbox http://127.0.0.1:8081")
	fs.Float64Var(&c.KommoRPS, "kommo-rps", envFloat("kommo-rps", 6), "requests per second to Kommo per egress IP (Kommo allows 7) (env CALLBRIDGE_KOMMO_RPS)")
	fs.BoolVar(&c.KommoLocalLimit, "kommo-local-limit", envBool("kommo-local-limit", false), "with PostgreSQL, keep the Kommo rate budget in this process instead of sharing it with the other replicas through the database (env CALLBRIDGE_KOMMO_LOCAL_LIMIT)")
	str(&c.KommoEgress, "kommo-egress", "default", "name of the IP address requests to Kommo leave from: replicas with the same name share its budget")
	fs.DurationVar(&c.KommoBatchWait, "kommo-batch-wait", envDuration("kommo-batch-wait", 200*time.Millisecond), "how long a call waits for others to share its Kommo request (env CALLBRIDGE_KOMMO_BATCH_WAIT)")
	fs.DurationVar(&c.Hold, "hold", envDuration("hold", 10*time.Second), "delay of the first Kommo write after hang-up (env CALLBRIDGE_HOLD)")
	fs.DurationVar(&c.JobTimeout, "job-timeout", envDuration("job-timeout", 2*time.Minute), "deadline of one job run (env CALLBRIDGE_JOB_TIMEOUT)")
	fs.DurationVar(&c.RescueAfter, "rescue-after", envDuration("rescue-after", 0), "how long a dead replica's running jobs wait before they are retried; default job-timeout + 1m (env CALLBRIDGE_RESCUE_AFTER)")
	fs.IntVar(&c.Workers, "workers", envInt("workers", 20), "concurrent sync jobs (env CALLBRIDGE_WORKERS)")
	str(&c.TwilioAPIBase, "twilio-api-base", "https://api.twilio.com", "Twilio API base URL")
	str(&c.RecordingHosts, "recording-hosts", "", "extra provider hosts recordings may be fetched from (comma-separated; for simulators)")
	str(&c.ConnectorsDir, "connectors-dir", "", "directory of declarative connector files (*.xml) to load besides the built-in ones")
	str(&c.AllowedOrigins, "allowed-origins", "", "extra comma-separated origins allowed to call the widget API (Kommo's own are always allowed)")
	str(&c.LogFormat, "log-format", "json", "log format: json or text")
	str(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.DurationVar(&c.DrainDelay, "drain-delay", envDuration("drain-delay", 0), "after SIGTERM, how long /readyz fails while requests are still served, before the server stops accepting them (env CALLBRIDGE_DRAIN_DELAY)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", envDuration("shutdown-timeout", 30*time.Second), "after SIGTERM (and the drain delay), how long in-flight requests and running jobs may take to finish (env CALLBRIDGE_SHUTDOWN_TIMEOUT)")
	str(&c.OperatorToken, "operator-token", "", "token for the operator pages (/operator/) and River's UI (/riverui/), as basic-auth password or bearer token; empty disables them")
}

// finish fills derived defaults.
func (c *Config) finish() error {
	if c.PublicURL == "" {
		host := c.Addr
		if strings.HasPrefix(host, ":") {
			host = "localhost" + host
		}
		c.PublicURL = "http://" + host
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.KommoRedirectURI == "" {
		c.KommoRedirectURI = c.PublicURL + "/oauth/install"
	}
	if c.SecretKeyFile == "" && !c.Postgres() {
		c.SecretKeyFile = c.DB + ".key"
	}
	if c.Postgres() && c.SecretKey == "" && c.SecretKeyFile == "" {
		return fmt.Errorf("with PostgreSQL every replica needs the same key: set --secret-key or --secret-key-file")
	}
	if c.OperatorToken != "" && len(c.OperatorToken) < 16 {
		return fmt.Errorf("--operator-token must be at least 16 characters")
	}
	if c.KommoRPS <= 0 || c.KommoRPS > 7 {
		return fmt.Errorf("--kommo-rps must be in (0, 7]: Kommo blocks the IP beyond 7 requests per second")
	}
	return nil
}

// Postgres reports whether DB names a PostgreSQL database.
func (c *Config) Postgres() bool {
	return strings.HasPrefix(c.DB, "postgres://") || strings.HasPrefix(c.DB, "postgresql://")
}

func envName(flag string) string {
	return "CALLBRIDGE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func env(flag, def string) string {
	if v, ok := os.LookupEnv(envName(flag)); ok {
		return v
	}
	return def
}

func envInt(flag string, def int) int {
	if v, err := strconv.Atoi(env(flag, "")); err == nil {
		return v
	}
	return def
}

func envFloat(flag string, def float64) float64 {
	if v, err := strconv.ParseFloat(env(flag, ""), 64); err == nil {
		return v
	}
	return def
}

func envBool(flag string, def bool) bool {
	if v, err := strconv.ParseBool(env(flag, "")); err == nil {
		return v
	}
	return def
}

func envDuration(flag string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(env(flag, "")); err == nil {
		return v
	}
	return def
}
