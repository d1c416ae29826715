// Package browsertest finds the headless browser for callbridge's browser
// tests (the widget's and the operator pages').
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
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

// Start launches headless Chromium (Chromium(t)) with a fresh profile and a
// window of width × height pixels, plus any extra options, and returns its
// browser context; the browser is closed when the test ends.
func Start(t testing.TB, width, height int, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := Chromium(t)
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, height),
	}, extra...)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	bctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return bctx
}
