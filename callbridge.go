// Package callbridge holds the domain of callbridge, a server that logs calls
// from VoIP providers into the Kommo CRM exactly once.
//
// A call reaches callbridge through up to three unsynchronised inputs, each of
// which becomes a CallEvent:
//
//   - provider webhooks (package twilio and the other connectors) enter at
//     http.Server's webhook handler;
//   - the manager's call result enters at the widget API;
//   - the recording enters with the provider's recording callback.
//
// Package pipeline folds the events of one call into a Call (Call.Fold) inside
// one database transaction and enqueues one sync job per call; the sync worker
// is the only code that writes the call to Kommo (package kommo). Packages
// sqlite and postgres store everything; package sandbox emulates Kommo.
package callbridge

// Version is set at build time with -ldflags "-X callbridge.Version=…".
var Version = "dev"

// Job arguments. They are plain structs so that every layer can name them; the
// store enqueues them with River, package pipeline works them.

// SyncCallArgs is the job that brings one call's Kommo note up to date. At most
// one such job is pending per call.
type SyncCallArgs struct {
	AccountID int64 `json:"account_id"`
	CallID    int64 `json:"call_id"`
}

// Kind implements river.JobArgs.
func (SyncCallArgs) Kind() string { return "sync_call" }

// InstallArgs is the job that exchanges a persisted OAuth authorization code
// for tokens and creates or updates the account.
type InstallArgs struct {
	CodeID int64 `json:"code_id"`
}

// Kind implements river.JobArgs.
func (InstallArgs) Kind() string { return "install" }

// MaintainArgs is the periodic job (run by the elected leader) that keeps
// every connection healthy: it imports calls whose webhooks were lost from
// providers' call history and renews webhook subscriptions.
type MaintainArgs struct{}

// Kind implements river.JobArgs.
func (MaintainArgs) Kind() string { return "maintain" }
