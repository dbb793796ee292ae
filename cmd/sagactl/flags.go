package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/consistency"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// flags are the parsed command line.
type flags struct {
	command string
	// kind and name are the saga of describe, retry and abandon.
	kind *sagaKind
	name string
	help bool

	kubeconfig, context, namespace string
	requestTimeout                 time.Duration

	// check
	allNamespaces     bool
	output            string
	longRunning       time.Duration
	servicesNamespace string
	urlTemplate       string
	serviceURLs       map[string]*string

	// retry, abandon
	wait time.Duration
	// abandon
	yes bool
	// can-i
	verb, resource string

	set *pflag.FlagSet
}

// commandFlags lists the flags that only some commands take.
func commandFlags() map[string][]string {
	return map[string][]string{
		cmdCheck: {"all-namespaces", "output", "long-running", "services-namespace", "service-url-template",
			"order-url", "inventory-url", "payment-url", "shipping-url", "notification-url"},
		cmdRetry:   {"wait"},
		cmdAbandon: {"yes", "wait"},
		cmdCanI:    {"all-namespaces"},
	}
}

// The commands.
const (
	cmdCheck    = "check"
	cmdDescribe = "describe"
	cmdRetry    = "retry"
	cmdAbandon  = "abandon"
	cmdCanI     = "can-i"
)

// commandList names the commands, for usage errors.
const commandList = "check, describe, retry, abandon or can-i"

func newFlagSet(prog string, f *flags) *pflag.FlagSet {
	fs := pflag.NewFlagSet(prog, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.BoolVarP(&f.help, "help", "h", false, "Show this help.")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else in-cluster).")
	fs.StringVar(&f.context, "context", "", "The kubeconfig context to use (default: the current context).")
	fs.StringVarP(&f.namespace, "namespace", "n", "", "Namespace of the sagas (default: the context's namespace, else default).")
	fs.DurationVar(&f.requestTimeout, "request-timeout", 10*time.Second, "Timeout of each request to the API server or a service.")
	fs.BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "check: read the sagas of every namespace; can-i: ask about all namespaces.")
	fs.StringVarP(&f.output, "output", "o", "table", "check: output format, table or json.")
	fs.DurationVar(&f.longRunning, "long-running", consistency.DefaultLongRunning, "check: a saga not terminal after this long is LONG_RUNNING_SAGA.")
	fs.StringVar(&f.servicesNamespace, "services-namespace", "", "check: namespace of the services in the URL template (default: the saga namespace).")
	fs.StringVar(&f.urlTemplate, "service-url-template", stepclient.DefaultURLTemplate,
		"check: base URL of a service; {service} and {namespace} are replaced.")
	f.serviceURLs = map[string]*string{}
	for _, svc := range stepclient.Services() {
		f.serviceURLs[svc] = fs.String(svc+"-url", "", fmt.Sprintf("check: base URL of the %s service (env %s; default: from the URL template).", svc, envName(svc)))
	}
	fs.DurationVar(&f.wait, "wait", 60*time.Second, "retry, abandon: how long to wait for the operator to act.")
	fs.BoolVarP(&f.yes, "yes", "y", false, "abandon: do not ask for confirmation.")
	return fs
}

// commandsWith names the commands that take the command-specific flag name, sorted.
func commandsWith(name string) []string {
	var out []string
	byCommand := commandFlags()
	for _, cmd := range slices.Sorted(maps.Keys(byCommand)) {
		if slices.Contains(byCommand[cmd], name) {
			out = append(out, cmd)
		}
	}
	return out
}

// envName is the environment variable of a service's URL, as .local/env writes it.
func envName(service string) string { return strings.ToUpper(service) + "_URL" }

// parseFlags parses args: the command, its NAME and flags in any order.
func parseFlags(prog string, args []string) (*flags, error) {
	f := &flags{}
	fs := newFlagSet(prog, f)
	f.set = fs
	if err := fs.Parse(args); err != nil {
		return nil, usageError("%w", err)
	}
	pos := fs.Args()
	if f.help {
		if len(pos) > 0 {
			f.command = pos[0]
		}
		return f, nil
	}
	if len(pos) == 0 {
		return nil, usageError("missing command (%s)", commandList)
	}
	f.command, pos = pos[0], pos[1:]
	if f.command == "help" {
		f.help, f.command = true, ""
		return f, nil
	}
	if err := f.validate(pos); err != nil {
		return nil, err
	}
	return f, nil
}

// validate checks the command, its arguments and that every flag given belongs to it.
func (f *flags) validate(pos []string) error {
	if !slices.Contains([]string{cmdCheck, cmdDescribe, cmdRetry, cmdAbandon, cmdCanI}, f.command) {
		return usageError("unknown command %q (want %s)", f.command, commandList)
	}
	if err := f.takeArguments(pos); err != nil {
		return err
	}
	switch {
	case f.output != "table" && f.output != "json":
		return usageError("--output %q: want table or json", f.output)
	case f.allNamespaces && f.namespace != "":
		return usageError("--all-namespaces and --namespace exclude each other")
	case f.longRunning <= 0 || f.wait <= 0 || f.requestTimeout <= 0:
		return usageError("--long-running, --wait and --request-timeout must be positive")
	}
	byCommand := commandFlags()
	for _, cmd := range slices.Sorted(maps.Keys(byCommand)) { // sorted: the same flag is named every time
		for _, name := range byCommand[cmd] {
			if f.set.Changed(name) && !slices.Contains(byCommand[f.command], name) {
				return usageError("--%s is a flag of %s, not of %s", name, strings.Join(commandsWith(name), " and "), f.command)
			}
		}
	}
	return nil
}

// takeArguments checks the number of the command's arguments and keeps them: none for check,
// VERB and RESOURCE for can-i, a saga (NAME or KIND/NAME) for the others.
func (f *flags) takeArguments(pos []string) error {
	switch f.command {
	case cmdCheck:
		if len(pos) > 0 {
			return usageError("check takes no argument, got %q", strings.Join(pos, " "))
		}
	case cmdCanI:
		if len(pos) != 2 || slices.Contains(pos, "") {
			return usageError("can-i takes exactly two arguments, VERB and RESOURCE[.GROUP]")
		}
		f.verb, f.resource = pos[0], pos[1]
	default:
		if len(pos) != 1 {
			return usageError("%s takes exactly one saga NAME (or KIND/NAME: ordersaga/NAME, saga/NAME)", f.command)
		}
		k, name, err := parseSagaArg(pos[0])
		if err != nil {
			return err
		}
		f.kind, f.name = k, name
	}
	return nil
}

// resolveURLs returns each service's base URL: its flag, else its environment variable,
// else the in-cluster DNS name from the template.
func (f *flags) resolveURLs(getenv func(string) string, namespace string) map[string]string {
	ns := f.servicesNamespace
	if ns == "" {
		ns = namespace
	}
	r := stepclient.Resolver{Template: f.urlTemplate, Namespace: ns}
	out := map[string]string{}
	for _, svc := range stepclient.Services() {
		switch {
		case *f.serviceURLs[svc] != "":
			out[svc] = *f.serviceURLs[svc]
		case getenv(envName(svc)) != "":
			out[svc] = getenv(envName(svc))
		default:
			out[svc] = r.BaseURL(svc)
		}
	}
	return out
}

func (a *app) usage(w io.Writer, f *flags) {
	p := a.prog
	fmt.Fprintf(w, `%[1]s operates sagas: OrderSagas, and Sagas that run a SagaDefinition.

Usage:
  %[1]s check [-n NAMESPACE | -A] [-o table|json] [--long-running 10m] [service URL flags]
      Check that the OrderSagas and the services' data agree; exit 1 on any critical finding.
  %[1]s describe [KIND/]NAME [-n NAMESPACE]
      Show the saga's timeline: steps, compensations, attempts, durations, errors, outputs
      and Events.
  %[1]s retry [KIND/]NAME [-n NAMESPACE] [--wait 60s]
      Re-drive a Failed saga (annotation %[2]s) and report the phase it reaches.
  %[1]s abandon [KIND/]NAME [-n NAMESPACE] [--yes] [--wait 60s]
      Give up on a Failed saga: list what it leaves undone, ask, then delete it and set
      %[4]s so that the operator records the list and releases it.
  %[1]s can-i VERB RESOURCE[.GROUP] [-n NAMESPACE | -A]
      Ask the API server (SelfSubjectAccessReview) whether this identity may do VERB on
      RESOURCE: print yes or no, and the reason if any. In the operator's pod it tells what
      the ServiceAccount may do: kubectl exec deploy/ordersaga-operator -- /sagactl can-i get secrets

KIND/NAME names the saga as kubectl does: ordersaga/NAME (also ordersagas, osaga) or
saga/NAME (also sagas), with or without the group (sagas.saga.ordersaga.io). A bare NAME
is an OrderSaga.

Flags:
%[3]s
Service URLs (check): --<service>-url, else $ORDER_URL ... $NOTIFICATION_URL, else
http://<service>.<services-namespace>.svc.cluster.local:8080 (--service-url-template).

Exit status: 0 success; 1 a critical finding, no such saga, a refused retry or abandon, a
retry that did not end Compensated, an abandon not confirmed or not done within --wait, or
can-i answered no; 2 bad usage, or the API server or a service could not be read.

Named kubectl-saga on the PATH, this binary is the kubectl plugin "kubectl saga".
`, p, v1.RetryAnnotation, f.set.FlagUsages(), v1.AbandonAnnotation)
}
