// Package browsertest runs Debian's headless Chromium for tests, driven
// from Go with chromedp: one browser per test binary (Shared), one
// isolated browser context (its own cookies) per Tab. The browser may
// only resolve localhost: tests talk to loopback servers and nothing else.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"timeclock/internal/testenv"
)

// Browser is a running headless Chromium.
type Browser struct {
	ctx     context.Context // the browser's first tab; new contexts hang off it
	cancel  func()
	dataDir string
}

// Flags are the command line Chromium starts with (beside a fresh
// --user-data-dir): headless, no sandbox (CI runs as root), nothing that
// phones home, and a resolver that knows only loopback names.
var Flags = []chromedp.ExecAllocatorOption{
	chromedp.Headless,
	chromedp.NoSandbox,
	chromedp.DisableGPU,
	chromedp.NoFirstRun,
	chromedp.NoDefaultBrowserCheck,
	chromedp.Flag("disable-quic", true),
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
	chromedp.Flag("disable-default-apps", true),
	chromedp.Flag("disable-extensions", true),
	chromedp.Flag("disable-dev-shm-usage", true),
	chromedp.Flag("disable-domain-reliability", true),
	chromedp.Flag("disable-client-side-phishing-detection", true),
	chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication"),
	chromedp.Flag("no-pings", true),
	chromedp.Flag("no-proxy-server", true),
	chromedp.Flag("metrics-recording-only", true),
	chromedp.Flag("password-store", "basic"),
	chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
	// The servers under test use test CAs Chromium does not know.
	chromedp.Flag("ignore-certificate-errors", true),
	chromedp.Flag("hide-scrollbars", true),
	chromedp.Flag("font-render-hinting", "none"),
	chromedp.WindowSize(1280, 900),
}

// Start launches Chromium (the chromium command on PATH).
func Start() (*Browser, error) {
	path, err := exec.LookPath("chromium")
	if err != nil {
		return nil, fmt.Errorf("browsertest: %w", err)
	}
	dir, err := os.MkdirTemp("", "timeclock-chromium-")
	if err != nil {
		return nil, fmt.Errorf("browsertest: %w", err)
	}
	opts := append([]chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.UserDataDir(dir)}, Flags...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	b := &Browser{ctx: ctx, dataDir: dir, cancel: func() { cancelCtx(); cancelAlloc() }}
	// The first Run starts the browser, which lives as long as the context
	// of that Run: it must be ctx itself, not one with a deadline. A broken
	// install fails here (chromedp reads the DevTools address Chromium
	// prints, or its exit).
	if err := chromedp.Run(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("browsertest: starting %s: %w", path, err)
	}
	return b, nil
}

// Close stops the browser and removes its profile.
func (b *Browser) Close() {
	b.cancel()
	os.RemoveAll(b.dataDir)
}

// Tab opens a new tab in a new browser context: cookies and storage of
// its own, as a second person at another computer. It closes when the
// test ends; every action on it fails after timeout.
func (b *Browser) Tab(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	// chromedp's WithNewBrowserContext opens the tab without a window,
	// which current Chromium refuses ("no browser is open") in a fresh
	// context; so make the context and a windowed tab here.
	exec := cdp.WithExecutor(b.ctx, chromedp.FromContext(b.ctx).Browser)
	bc, err := target.CreateBrowserContext().WithDisposeOnDetach(true).Do(exec)
	if err != nil {
		t.Fatalf("browsertest: new browser context: %v", err)
	}
	id, err := target.CreateTarget("about:blank").WithBrowserContextID(bc).WithNewWindow(true).Do(exec)
	if err != nil {
		target.DisposeBrowserContext(bc).Do(exec)
		t.Fatalf("browsertest: new tab: %v", err)
	}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(id))
	ctx, cancelT := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelT()
		cancel()
		target.DisposeBrowserContext(bc).Do(exec)
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("browsertest: attaching to the new tab: %v", err)
	}
	return ctx
}

var (
	sharedMu  sync.Mutex
	shared    *Browser
	sharedErr error
)

// Shared returns the test binary's browser, started on first use. It
// skips the test under qemu, and when Chromium is missing it skips (or,
// under make test, fails).
func Shared(t testing.TB) *Browser {
	t.Helper()
	if os.Getenv("TIMECLOCK_QEMU") != "" {
		t.Skip("browser test: runs on the build host, not under qemu")
	}
	testenv.Tool(t, "chromium")
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		shared, sharedErr = Start()
	}
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// CloseShared stops the shared browser; call it from TestMain after m.Run.
func CloseShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		shared.Close()
		shared = nil
	}
}

// Screenshot saves the whole page as a PNG when dir is set (the
// TIMECLOCK_SCREENSHOTS variable, for the docs) and does nothing otherwise.
func Screenshot(ctx context.Context, dir, name string) error {
	if dir == "" {
		return nil
	}
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		return fmt.Errorf("screenshot %s: %w", name, err)
	}
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		return errors.New("screenshot " + name + ": not a PNG")
	}
	return os.WriteFile(filepath.Join(dir, name), png, 0o644)
}

// ScreenshotDir is where Screenshot writes, from TIMECLOCK_SCREENSHOTS.
func ScreenshotDir() string { return os.Getenv("TIMECLOCK_SCREENSHOTS") }
