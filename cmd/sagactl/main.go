// Command sagactl operates sagas: `check` compares the OrderSagas with the services' data,
// `describe [KIND/]NAME` shows one saga's timeline, `retry [KIND/]NAME` re-drives a Failed
// saga, `abandon [KIND/]NAME` gives up on one and releases it, `can-i VERB RESOURCE` asks
// the API server what the identity it runs as may do. KIND is ordersaga (a bare NAME) or
// saga, a run of a SagaDefinition. Named kubectl-saga on the PATH, it is the kubectl plugin
// `kubectl saga`.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	// The image is FROM scratch, without CA certificates: TLS (to an external MongoDB, a service
	// URL) falls back to the Mozilla roots compiled in.
	_ "golang.org/x/crypto/x509roots/fallback"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // a critical finding, no such saga, a refused retry or abandon, a retry that did not compensate, can-i's no
	exitUsage   = 2 // bad usage, or the API server or a service could not be read
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[0], os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// app is one invocation: where it writes, how it reads the environment and the clock.
type app struct {
	prog           string
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	// pollInterval is how often a waiting command reads the saga; tests shorten it.
	pollInterval time.Duration
}

// poll is how long a command waits for the operator, and how often it looks.
type poll struct{ wait, every time.Duration }

func (a *app) pollEvery(wait time.Duration) poll {
	return poll{wait: wait, every: cmp.Or(a.pollInterval, defaultPollInterval)}
}

// run executes the command line args of the program called arg0 and returns its exit code.
func run(ctx context.Context, arg0 string, args []string, stdout, stderr io.Writer) int {
	a := &app{prog: programName(arg0), stdin: os.Stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, now: time.Now}
	return a.exitCode(a.execute(ctx, args))
}

// programName is "kubectl saga" when the binary is the kubectl plugin kubectl-saga.
func programName(arg0 string) string {
	base := strings.TrimSuffix(filepath.Base(arg0), ".exe")
	if plugin, ok := strings.CutPrefix(base, "kubectl-"); ok && plugin != "" {
		return "kubectl " + strings.ReplaceAll(plugin, "_", "-")
	}
	return "sagactl"
}

func (a *app) execute(ctx context.Context, args []string) error {
	f, err := parseFlags(a.prog, args)
	if err != nil {
		return err
	}
	if f.help {
		a.usage(a.stdout, f)
		return nil
	}
	switch f.command {
	case cmdCheck:
		return a.check(ctx, f)
	case cmdDescribe:
		return a.describe(ctx, f)
	case cmdRetry:
		return a.retry(ctx, f)
	case cmdAbandon:
		return a.abandon(ctx, f)
	case cmdCanI:
		return a.canI(ctx, f)
	}
	return usageError("unknown command %q (want %s)", f.command, commandList)
}

// exitError carries an exit code; a nil err means the output already said everything.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func failure(format string, args ...any) error {
	return &exitError{code: exitFailure, err: fmt.Errorf(format, args...)}
}

// exitCode prints err (if any) and maps it to the exit code: usage and connection errors
// are 2 (anything not classified is a connection or server error).
func (a *app) exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	code := exitUsage
	if ee, ok := errors.AsType[*exitError](err); ok {
		code = ee.code
		if ee.err == nil {
			return code
		}
	}
	fmt.Fprintf(a.stderr, "%s: %v\n", a.prog, err)
	if code == exitUsage && isUsage(err) {
		fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", a.prog)
	}
	return code
}

func isUsage(err error) bool {
	ee, ok := errors.AsType[*exitError](err)
	return ok && ee.code == exitUsage
}
