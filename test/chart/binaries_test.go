package chart_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestManagerAcceptsRenderedArgs parses the operator container's rendered arguments, in
// every variant and in config/default, with the manager's own flag set: `manager <args>
// --help` exits 0 only when every flag exists and every value parses.
func TestManagerAcceptsRenderedArgs(t *testing.T) {
	bin, err := buildBinary(t, "manager")
	if err != nil {
		t.Fatalf("build ./cmd/manager: %v", err)
	}
	for _, v := range variants(t) {
		t.Run(v.name, func(t *testing.T) {
			checkManagerArgs(t, bin, deployments(t, render(t, v, "args-"+v.name)))
		})
	}
	t.Run("kustomize-config-default", func(t *testing.T) {
		r := run(t, nil, tool(t, "kustomize"), "build", "config/default")
		if r.err != nil {
			t.Fatalf("kustomize build config/default: %v\n%s", r.err, r.stderr)
		}
		checkManagerArgs(t, bin, deployments(t, decode(t, r.stdout)))
	})
}

// checkManagerArgs runs the manager binary bin with the arguments of every /manager
// container in deps, and --help; there must be at least one such container.
func checkManagerArgs(t *testing.T, bin string, deps []appsv1.Deployment) {
	t.Helper()
	found := false
	for _, d := range deps {
		for _, ctr := range d.Spec.Template.Spec.Containers {
			if len(ctr.Command) == 0 || ctr.Command[0] != "/manager" {
				continue
			}
			found = true
			env := containerEnv(t, ctr)
			r := runBinary(t, env, bin, append(append([]string{}, ctr.Args...), "--help")...)
			if r.err != nil || !strings.Contains(r.stderr, "-service-url-template") {
				t.Errorf("manager %s --help: %v (want exit 0 and the usage)\n%s", strings.Join(ctr.Args, " "), r.err, r.stderr)
			}
		}
	}
	if !found {
		t.Fatal("no container runs /manager")
	}
}

// TestGatewayAcceptsRenderedArgs parses the gateway container's rendered arguments, in every
// variant, with the gateway's own flag set: `gateway <args> --help` exits 0 only when every
// flag exists and every value parses.
func TestGatewayAcceptsRenderedArgs(t *testing.T) {
	bin, err := buildBinary(t, "gateway")
	if err != nil {
		t.Fatalf("build ./cmd/gateway: %v", err)
	}
	for _, v := range variants(t) {
		t.Run(v.name, func(t *testing.T) {
			c := gatewayDeployment(t, render(t, v, "gwargs-"+v.name)).Spec.Template.Spec.Containers[0]
			r := runBinary(t, containerEnv(t, c), bin, append(slices.Clone(c.Args), "--help")...)
			if r.err != nil || !strings.Contains(r.stderr, "-listen-address") {
				t.Errorf("gateway %s --help: %v (want exit 0 and the usage)\n%s", strings.Join(c.Args, " "), r.err, r.stderr)
			}
		})
	}
}

// TestServicesAcceptRenderedConfig runs each service container's rendered arguments and
// environment through the real services binary, twice: with --help (every flag exists and
// every environment value has the right type) and with an unusable --mongo-uri, so that the
// service's own validation (amounts, payment methods, country codes, fault settings) runs
// and the process stops at the connection with exit 1 instead of a usage error (exit 2).
// The rendered MONGO_URI itself is checked with the MongoDB driver's parser: it logs in with
// the Secret's password, or with FerretDB, which has no users, with no credentials.
func TestServicesAcceptRenderedConfig(t *testing.T) {
	bin, err := buildBinary(t, "services")
	if err != nil {
		t.Skipf("SKIPPED: ./cmd/services does not build yet, so the rendered service configuration cannot be checked against it: %v", err)
	}
	for _, v := range variants(t) {
		t.Run(v.name, func(t *testing.T) {
			seen := map[string]bool{}
			for _, d := range deployments(t, render(t, v, "svc-"+v.name)) {
				for _, ctr := range d.Spec.Template.Spec.Containers {
					if len(ctr.Command) == 0 || ctr.Command[0] != "/services" {
						continue
					}
					seen[ctr.Args[0]] = true
					checkServiceContainer(t, bin, ctr, !v.ferretDB())
				}
			}
			if len(seen) != 5 {
				t.Errorf("services rendered: %v, want the five", keys(seen))
			}
		})
	}
}

func checkServiceContainer(t *testing.T, bin string, ctr corev1.Container, wantAuth bool) {
	t.Helper()
	env := containerEnv(t, ctr)
	name := strings.Join(ctr.Args, " ")
	r := runBinary(t, env, bin, append(append([]string{}, ctr.Args...), "--help")...)
	if r.err != nil {
		t.Errorf("services %s --help: %v\n%s", name, r.err, r.stderr)
	}
	args := append(append([]string{}, ctr.Args...), "--http-addr=127.0.0.1:0", "--mongo-uri=not-mongodb://unusable")
	r = runBinary(t, env, bin, args...)
	var exit *exec.ExitError
	if !errors.As(r.err, &exit) || exit.ExitCode() != 1 || !strings.Contains(strings.ToLower(r.stderr), "mongo") {
		t.Errorf("services %s with the rendered environment: %v, want exit 1 at the MongoDB connection (configuration accepted)\n%s", name, r.err, r.stderr)
	}
	uri := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "MONGO_URI="); ok {
			uri = v
		}
	}
	opts := options.Client().ApplyURI(uri)
	switch err := opts.Validate(); {
	case uri == "":
		t.Errorf("services %s: no MONGO_URI", name)
	case err != nil:
		t.Errorf("services %s: MONGO_URI %q: %v", name, uri, err)
	case wantAuth && (opts.Auth == nil || opts.Auth.Password != fakeSecret):
		t.Errorf("services %s: MONGO_URI %q does not carry the password from the Secret", name, uri)
	case !wantAuth && opts.Auth != nil:
		t.Errorf("services %s: MONGO_URI %q carries credentials, but FerretDB has no authentication", name, uri)
	}
}

// TestSagactlAcceptsRenderedTestArgs runs the `helm test` pod's rendered command line, in
// every variant, through the real sagactl with a kubeconfig that does not exist: the flags
// must parse and validate, so that sagactl gets as far as loading its cluster configuration
// (in the pod, the in-cluster one) and stops there with exit 2, instead of a usage error.
func TestSagactlAcceptsRenderedTestArgs(t *testing.T) {
	bin, err := buildBinary(t, "sagactl")
	if err != nil {
		t.Fatalf("build ./cmd/sagactl: %v", err)
	}
	for _, v := range variants(t) {
		t.Run(v.name, func(t *testing.T) {
			objs := render(t, v, "ctl-"+v.name)
			pod := find(objs, "Pod")[fullname(v)+"-helm-test"]
			if pod == nil {
				t.Fatalf("no test Pod %s-helm-test", fullname(v))
			}
			spec, _ := podSpec(t, pod)
			ctr := spec.Containers[0]
			missing := filepath.Join(t.TempDir(), "no-kubeconfig")
			r := runBinary(t, containerEnv(t, ctr), bin, append(slices.Clone(ctr.Args), "--kubeconfig="+missing)...)
			var exit *exec.ExitError
			if !errors.As(r.err, &exit) || exit.ExitCode() != 2 || !strings.Contains(r.stderr, "load kubeconfig") {
				t.Errorf("sagactl %s: %v, want exit 2 at loading the kubeconfig (arguments accepted)\n%s%s", strings.Join(ctr.Args, " "), r.err, r.stdout, r.stderr)
			}
		})
	}
}

// fakeSecret stands for every Secret value in a container's environment.
const fakeSecret = "Secret0Value"

// containerEnv returns the environment the kubelet would give ctr: values from Secrets and
// the downward API are stand-ins, and $(VAR) references to earlier variables are expanded.
func containerEnv(t *testing.T, ctr corev1.Container) []string {
	t.Helper()
	vars := map[string]string{}
	out := append(make([]string, 0, 2+len(ctr.Env)), "PATH="+os.Getenv("PATH"), "HOME="+t.TempDir())
	for _, e := range ctr.Env {
		val := expand(e.Value, vars)
		if e.ValueFrom != nil {
			switch {
			case e.ValueFrom.SecretKeyRef != nil:
				val = fakeSecret
			case e.ValueFrom.FieldRef != nil:
				val = "from-" + e.ValueFrom.FieldRef.FieldPath
			default:
				t.Fatalf("env %s: unsupported valueFrom %+v", e.Name, e.ValueFrom)
			}
		}
		vars[e.Name] = val
		out = append(out, e.Name+"="+val)
	}
	return out
}

// expand replaces $(NAME) with an earlier variable's value and $$ with $, as the kubelet
// does; a reference to an unknown variable stays as it is.
func expand(s string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '(':
			if end := strings.IndexByte(s[i:], ')'); end > 0 {
				if v, ok := vars[s[i+2:i+end]]; ok {
					b.WriteString(v)
					i += end
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// deployments converts the rendered Deployments.
func deployments(t *testing.T, objs []*unstructured.Unstructured) []appsv1.Deployment {
	t.Helper()
	var out []appsv1.Deployment
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		var d appsv1.Deployment
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &d); err != nil {
			t.Fatalf("Deployment %s: %v", o.GetName(), err)
		}
		out = append(out, d)
	}
	return out
}

// runBinary runs bin with exactly env, for at most 20 seconds.
func runBinary(t *testing.T, env []string, bin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return result{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

var (
	binDirOnce sync.Once
	binDir     string
	builds     sync.Map // name -> *buildResult
)

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// buildBinary builds ./cmd/<name> once per test run into a temporary folder.
func buildBinary(t *testing.T, name string) (string, error) {
	t.Helper()
	binDirOnce.Do(func() {
		// Not t.TempDir: the folder outlives the test that creates it; TestMain removes it.
		dir, err := os.MkdirTemp("", "ordersaga-chart-bin-") //nolint:usetesting // shared by every test of the run
		if err != nil {
			t.Fatal(err)
		}
		binDir = dir
	})
	v, _ := builds.LoadOrStore(name, &buildResult{})
	b := v.(*buildResult)
	b.once.Do(func() {
		b.path = filepath.Join(binDir, name)
		// Ten minutes: a first build on a machine with empty Go caches compiles Kubernetes.
		r := runWithin(t, 10*time.Minute, []string{"CGO_ENABLED=0"}, "go", "build", "-o", b.path, "./cmd/"+name)
		if r.err != nil {
			b.err = errors.New(r.err.Error() + "\n" + r.stderr)
		}
	})
	return b.path, b.err
}
