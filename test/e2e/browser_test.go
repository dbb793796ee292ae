package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The browser specs drive Debian's Chromium (hack/chromium.sh installs it) headless over
// the DevTools protocol, with chromedp: a fresh profile per browser, a 1366x768 window.
const (
	defaultChromium = "/usr/bin/chromium"
	// artifactsDir receives the specs' screenshots (PNG), relative to this package; it is
	// in .gitignore.
	artifactsDir = "artifacts"
	// browserStep bounds one browser action that waits for nothing in particular.
	browserStep = 20 * time.Second
)

// unsafeFileChars are the characters a screenshot's file name does not keep.
var unsafeFileChars = regexp.MustCompile(`[^a-z0-9]+`)

// chromiumPath is the browser to drive: $CHROMIUM, else Debian's.
func chromiumPath() string { return cmpOrEnv("CHROMIUM", defaultChromium) }

// requireChromium skips the spec when there is no Chromium, saying how to get one; in CI
// (CI set) it fails instead, so that a machine without it cannot pass unseen.
func requireChromium() string {
	GinkgoHelper()
	path := chromiumPath()
	if _, err := exec.LookPath(path); err != nil {
		msg := fmt.Sprintf("no Chromium at %s (%v): run hack/chromium.sh (Debian's chromium) or set CHROMIUM", path, err)
		if os.Getenv("CI") != "" {
			Fail(msg + "; in CI the browser specs must run")
		}
		Skip(msg)
	}
	return path
}

// browser is one tab of a headless Chromium. Its actions are bounded by the spec's context
// as well as by their own timeouts.
type browser struct {
	tab  context.Context //nolint:containedctx // a chromedp tab is a context: holding it is how a spec addresses its tab
	spec context.Context //nolint:containedctx // the spec's context, which ends every action of the tab with the spec
	name string

	mu sync.Mutex
	// exceptions are the page's uncaught exceptions and unhandled rejections.
	exceptions []string
}

// newBrowser starts Chromium with a fresh profile and returns its first tab; the spec's
// cleanup closes it, after saving a screenshot and the page's text when the spec failed.
func newBrowser(spec context.Context) *browser {
	GinkgoHelper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(requireChromium()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(GinkgoT().TempDir()),
		chromedp.WindowSize(1366, 768),
	}
	// The browser lives as long as the context of its first action, so that context is not
	// the spec's, which may end first: the cleanup below ends the browser.
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.WithoutCancel(spec), opts...)
	tab, cancelTab := chromedp.NewContext(alloc)
	Expect(chromedp.Do(tab)).To(Succeed(), "start %s", chromiumPath())
	b := &browser{tab: tab, spec: spec, name: "tab 1"}
	b.watchConsole()
	DeferCleanup(func(ctx SpecContext) { //nolint:contextcheck // chromedp acts in the tab's context, which ctx bounds (browser.bounded)
		b.saveIfFailed(ctx)
		cancelTab()
		cancelAlloc()
	})
	return b
}

// newTab opens another tab of the same browser. Tabs share the profile but not
// sessionStorage, so each signs in on its own.
func (b *browser) newTab(name string) *browser {
	GinkgoHelper()
	tab, cancel := chromedp.NewContext(b.tab)
	Expect(chromedp.Do(tab)).To(Succeed(), "open %s", name)
	t := &browser{tab: tab, spec: b.spec, name: name}
	t.watchConsole()
	DeferCleanup(func(ctx SpecContext) {
		t.saveIfFailed(ctx)
		cancel()
	})
	return t
}

// watchConsole copies the tab's console to the spec's output and keeps its exceptions.
func (b *browser) watchConsole() {
	messages := chromedp.Console(b.tab)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			GinkgoWriter.Printf("browser %s console: %s\n", b.name, m)
			if m.IsException() {
				b.mu.Lock()
				b.exceptions = append(b.exceptions, m.String())
				b.mu.Unlock()
			}
		}
	}()
}

// expectNoExceptions fails the spec when the page threw.
func (b *browser) expectNoExceptions() {
	GinkgoHelper()
	b.mu.Lock()
	defer b.mu.Unlock()
	Expect(b.exceptions).To(BeEmpty(), "uncaught exceptions in %s", b.name)
}

// within returns a context for one action: the tab's, ended by timeout or by the spec.
func (b *browser) within(timeout time.Duration) (context.Context, context.CancelFunc) {
	return b.bounded(b.spec, timeout)
}

// bounded returns the tab's context, ended by timeout or by limit.
func (b *browser) bounded(limit context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(b.tab, timeout)
	stop := context.AfterFunc(limit, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

// do runs actions in order and fails the spec on the first error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	GinkgoHelper()
	ctx, cancel := b.within(browserStep)
	defer cancel()
	Expect(chromedp.Do(ctx, actions...)).To(Succeed(), "%s: %s", b.name, what)
}

// eval evaluates a JavaScript expression in the page and decodes its value as T.
func eval[T any](b *browser, expr string) T {
	GinkgoHelper()
	ctx, cancel := b.within(browserStep)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	Expect(err).NotTo(HaveOccurred(), "%s: evaluate %s", b.name, expr)
	return v
}

// waitFor waits until the JavaScript predicate holds, checking every 100 ms; on timeout
// it fails the spec with what it waited for and the page's text.
//
// A navigation while it waits (the form's submission opens the saga's page) ends the
// document the poll runs in; it polls again in the new one.
func (b *browser) waitFor(what, predicate string, timeout time.Duration) {
	GinkgoHelper()
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		ctx, cancel := b.within(left + 5*time.Second)
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(max(left, time.Millisecond))))
		cancel()
		switch {
		case err == nil:
			return
		case navigatedAway(err) && time.Now().Before(deadline) && b.spec.Err() == nil:
			time.Sleep(100 * time.Millisecond)
			continue
		}
		Fail(fmt.Sprintf("%s: waited %s for %s (%s): %v\npage text:\n%s", b.name, timeout, what, predicate, err, b.pageText(b.spec)))
	}
}

// navigatedAway tells whether an evaluation failed because its document went away.
func navigatedAway(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "navigated or closed") || strings.Contains(msg, "Execution context was destroyed") ||
		strings.Contains(msg, "Cannot find context with specified id")
}

// text is an element's text as the page shows it (textContent, trimmed).
func (b *browser) text(id string) string {
	GinkgoHelper()
	return eval[string](b, fmt.Sprintf(`((document.getElementById(%q) || {}).textContent || '').trim()`, id))
}

// pageText is the text of the page, for failure messages; "" when it cannot be read
// within 5 s or before limit ends.
func (b *browser) pageText(limit context.Context) string {
	ctx, cancel := b.bounded(limit, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	if err != nil {
		return ""
	}
	return s
}

// screenshot saves the whole page as artifacts/<name>.png and notes it in the report.
func (b *browser) screenshot(name string) {
	GinkgoHelper()
	ctx, cancel := b.within(browserStep)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 is PNG
	Expect(err).NotTo(HaveOccurred(), "%s: screenshot", b.name)
	Expect(os.MkdirAll(artifactsDir, 0o750)).To(Succeed())
	path := filepath.Join(artifactsDir, name+".png")
	Expect(os.WriteFile(path, png, 0o600)).To(Succeed())
	AddReportEntry("screenshot "+name, path)
}

// saveIfFailed keeps a screenshot and the text of the page of a failed spec; cleanup is
// the context of the spec's cleanup (the spec's own has ended).
func (b *browser) saveIfFailed(cleanup context.Context) {
	if !CurrentSpecReport().Failed() {
		return
	}
	GinkgoWriter.Printf("\n----- %s: page text at the failure -----\n%s\n", b.name, b.pageText(cleanup))
	ctx, cancel := b.bounded(cleanup, 10*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil && os.MkdirAll(artifactsDir, 0o750) == nil {
		slug := strings.Trim(unsafeFileChars.ReplaceAllString(strings.ToLower(CurrentSpecReport().LeafNodeText), "-"), "-")
		path := filepath.Join(artifactsDir, fmt.Sprintf("failed-%.60s-%s.png", slug, unsafeFileChars.ReplaceAllString(b.name, "-")))
		if os.WriteFile(path, png, 0o600) == nil {
			GinkgoWriter.Printf("screenshot of the failure: %s\n", path)
		}
	}
}
