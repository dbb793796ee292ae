// Command localstack runs the whole OrderSaga system on this machine, with no cluster:
//
//	localstack run    the stack in the foreground until Ctrl-C (make run-local)
//	localstack demo   the stack, the samples, the table, a timeline and the check (make demo)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ordersaga/ordersaga/internal/localstack"
	"github.com/ordersaga/ordersaga/internal/mongoserver"
)

func main() {
	ctrllog.SetLogger(logr.Discard()) // the control plane's library logs are noise here; each process logs to .local/logs
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "localstack:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || (args[0] != "run" && args[0] != "demo") {
		return errors.New("usage: localstack run|demo [--wait 3m]")
	}
	fs := flag.NewFlagSet("localstack "+args[0], flag.ContinueOnError)
	wait := fs.Duration("wait", 3*time.Minute, "demo: how long the samples may take")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("parse flags: %w", err)
	}
	root, err := mongoserver.RepoRoot()
	if err != nil {
		return err
	}
	progress := func(format string, a ...any) {
		fmt.Fprintf(out, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
	progress("starting the local stack (a first run on a new machine builds the control plane and test server: up to ~20 min, once)")
	stack, err := localstack.Start(ctx, localstack.Options{Root: root, Progress: progress})
	if err != nil {
		return err
	}
	defer func() {
		progress("stopping the local stack")
		_ = stack.Stop()
	}()
	envFile := filepath.Join(root, ".local", "env")
	if err := stack.WriteEnv(envFile); err != nil {
		return err
	}
	killManager := "kill -9 $(cat " + relative(root, stack.PIDFile("manager")) + ")"
	if args[0] == "demo" {
		progress("PID files in %s; a crashed child is restarted: try %s", relative(root, filepath.Dir(stack.PIDFile("manager"))), killManager)
		progress("dashboard while the demo runs: %s/ (sign in with SHOP_TOKEN from %s)", stack.GatewayURL, relative(root, envFile))
		return stack.Demo(ctx, out, *wait)
	}
	fmt.Fprintf(out, `
The stack is running. Logs: .local/logs/. PID files: .local/pids/. In another shell:

  . .local/env
  kubectl apply -f config/samples/
  kubectl get osaga -w

The dashboard: %s/ (GraphQL: %s/graphql). Sign in with this token of
ServiceAccount %s/%s (SHOP_TOKEN in .local/env; valid for a day):

  %s

Crash the manager; the stack restarts it, as a Deployment would, and the sagas go on:

  %s

Press Ctrl-C to stop everything.
`, stack.GatewayURL, stack.GatewayURL, localstack.ShopNamespace, localstack.ShopFrontend, stack.ShopToken, killManager)
	<-ctx.Done()
	return nil
}

// relative returns path relative to root, the directory make runs in, for commands to copy.
func relative(root, path string) string {
	if rel, err := filepath.Rel(root, path); err == nil {
		return rel
	}
	return path
}
