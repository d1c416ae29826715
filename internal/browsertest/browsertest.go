// Package browsertest finds the headless browser for callbridge's browser
// tests (the widget's and the operator pages').
package browsertest

import (
	"os"
	"os/exec"
	"testing"
)

// Chromium returns the path of the Chromium binary the browser tests drive:
// $CALLBRIDGE_CHROMIUM, else the first of chromium, chromium-browser,
// google-chrome and google-chrome-stable on the PATH. Without one the test
// is skipped, unless CALLBRIDGE_BROWSER_TESTS=1 (as CI sets it), which makes
// the missing browser a failure.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CALLBRIDGE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CALLBRIDGE_BROWSER_TESTS") == "1" {
		t.Fatal("CALLBRIDGE_BROWSER_TESTS=1 but no Chromium was found (apt-get install chromium, or set CALLBRIDGE_CHROMIUM)")
	}
	t.Skip("no Chromium found; install Debian's chromium or set CALLBRIDGE_CHROMIUM (CALLBRIDGE_BROWSER_TESTS=1 makes this a failure)")
	return ""
}
