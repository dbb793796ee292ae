package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ordersaga/ordersaga/internal/mongoserver"
)

// TestDemo runs what `make demo` runs — the whole stack, the samples, the table, a
// timeline and the consistency check — then stops the stack and checks that no process
// it started is left.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo starts the whole stack; skipped with -short")
	}
	ctrllog.SetLogger(logr.Discard())
	root, err := mongoserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	stack, err := Start(ctx, Options{Root: root, StateDir: t.TempDir(), Assets: os.Getenv("KUBEBUILDER_ASSETS"), Progress: t.Logf})
	if err != nil {
		t.Fatalf("start the stack: %v", err)
	}
	children := append(stack.PIDs(), childPIDs(t)...)
	stopped := false
	defer func() {
		if !stopped {
			_ = stack.Stop()
		}
	}()

	expectHealthy(ctx, t, stack.URLs)
	expectGateway(ctx, t, stack)
	var out bytes.Buffer
	if err := stack.Demo(ctx, &out, 3*time.Minute); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{"order-1001", "Completed", "Compensated", "OutOfStock"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("demo output:\n%s", out.String())

	if err := stack.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	stopped = true
	for _, pid := range children {
		if alive(pid) {
			t.Errorf("process %d is still running after Stop", pid)
		}
	}
	if left := childPIDs(t); len(left) > 0 {
		t.Errorf("child processes left after Stop: %v", left)
	}
}

// TestStartFailsWhenAChildCannotStart checks what `make demo` relies on to exit non-zero:
// a child that fails its first start is an error, not restarted, and Start stops what it
// had started (the control plane, the store, the other children) before it returns.
func TestStartFailsWhenAChildCannotStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the control plane and the store; skipped with -short")
	}
	ctrllog.SetLogger(logr.Discard())
	root, err := mongoserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var lines []string
	var mu sync.Mutex
	progress := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	stateDir := t.TempDir()
	// Every service refuses to start with an unknown log level: the first one started fails.
	stack, err := Start(ctx, Options{Root: root, StateDir: stateDir, Assets: os.Getenv("KUBEBUILDER_ASSETS"),
		ServiceEnv: []string{"LOG_LEVEL=no-such-level"}, Progress: progress})
	if err == nil {
		_ = stack.Stop()
		t.Fatal("Start succeeded with services that cannot start")
	}
	if !strings.Contains(err.Error(), "order exited (exit status 2) before it was ready") {
		t.Errorf("Start: %v; want the first service's exit", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, line := range lines {
		if strings.Contains(line, "restarting") {
			t.Errorf("a child that never was ready was restarted: %s", line)
		}
	}
	if left := childPIDs(t); len(left) > 0 {
		t.Errorf("child processes left after a failed Start: %v", left)
	}
	if entries, _ := os.ReadDir(filepath.Join(stateDir, "pids")); len(entries) > 0 {
		t.Errorf("PID files left after a failed Start: %v", entries)
	}
}

// expectGateway checks that the gateway is ready, takes the shop front end's token (a
// TokenReview and SubjectAccessReviews on the stack's API server) and refuses a call without
// one; and that the env file names both.
func expectGateway(ctx context.Context, t *testing.T, stack *Stack) {
	t.Helper()
	if stack.GatewayURL == "" || stack.ShopToken == "" {
		t.Fatalf("GatewayURL %q, ShopToken set: %t; want both", stack.GatewayURL, stack.ShopToken != "")
	}
	expectHealthy(ctx, t, map[string]string{"gateway": stack.GatewayURL})
	const query = `{ viewer { username namespace canPlaceOrders canListOrders } }`
	body := postGraphQL(ctx, t, stack.GatewayURL, stack.ShopToken, query)
	var got struct {
		Data struct {
			Viewer struct {
				Username       string `json:"username"`
				Namespace      string `json:"namespace"`
				CanPlaceOrders bool   `json:"canPlaceOrders"`
				CanListOrders  bool   `json:"canListOrders"`
			} `json:"viewer"`
		} `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("gateway answer %s: %v", body, err)
	}
	v := got.Data.Viewer
	if len(got.Errors) > 0 || v.Username != "system:serviceaccount:default:shop-frontend" || v.Namespace != ShopNamespace || !v.CanPlaceOrders || !v.CanListOrders {
		t.Errorf("viewer with ShopToken: %s; want the shop front end in %s, allowed to place and list orders", body, ShopNamespace)
	}
	if body := postGraphQL(ctx, t, stack.GatewayURL, "", query); !strings.Contains(body, `"UNAUTHENTICATED"`) {
		t.Errorf("viewer without a token: %s; want UNAUTHENTICATED", body)
	}
	envFile := filepath.Join(t.TempDir(), "env")
	if err := stack.WriteEnv(envFile); err != nil {
		t.Fatal(err)
	}
	env, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"export GATEWAY_URL='" + stack.GatewayURL + "'\n", "export SHOP_TOKEN='" + stack.ShopToken + "'\n"} {
		if !strings.Contains(string(env), want) {
			t.Errorf("the env file lacks %q:\n%s", want, env)
		}
	}
}

// postGraphQL posts query to the gateway at base, with a bearer token unless it is empty,
// and returns the body of a 200 answer.
func postGraphQL(ctx context.Context, t *testing.T, base, token, query string) string {
	t.Helper()
	payload, err := json.Marshal(map[string]string{"query": query})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s/graphql: %v", base, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s/graphql: %s %v\n%s", base, resp.Status, err, body)
	}
	return string(body)
}

// expectHealthy checks that every service answers /healthz with 200.
func expectHealthy(ctx context.Context, t *testing.T, urls map[string]string) {
	t.Helper()
	for name, url := range urls {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%s /healthz: %v", name, err)
			continue
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s /healthz: %s", name, resp.Status)
		}
	}
}

// childPIDs lists the live children of this test process (the control plane and the
// test server are started by libraries, not by Stack itself).
func childPIDs(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("read /proc: %v", err)
	}
	me := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the ")" that ends the command name: state, ppid, ...
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 1 && fields[0] != "Z" && fields[1] == strconv.Itoa(me) {
			out = append(out, pid)
		}
	}
	return out
}

func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}
