// Command services runs one OrderSaga backing service per process:
//
//	services order|inventory|payment|shipping|notification [flags]
//
// Every flag has an environment fallback (shown in --help); flags win over the environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	// The image is FROM scratch, without CA certificates: TLS (to an external MongoDB, a service
	// URL) falls back to the Mozilla roots compiled in.
	_ "golang.org/x/crypto/x509roots/fallback"

	"github.com/ordersaga/ordersaga/services/platform"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop() // os.Exit skips deferred calls
	os.Exit(code)
}

// service is one subcommand: its flags and how it registers on a server.
type service struct {
	summary string
	// flags adds the service's flags to fs and returns what builds its registrar once
	// fs is parsed.
	flags func(fs *flag.FlagSet, e *envDefaults) func() (registrar, error)
}

// registrar registers a service's routes on srv and returns its set-up (indexes, seed).
type registrar func(srv *platform.Server, db *mongo.Database) func(context.Context) error

// envFunc looks up an environment variable.
type envFunc func(string) string

// services returns the subcommands by name.
func services() map[string]service {
	return map[string]service{
		"order":        {"orders: create, confirm, cancel", orderFlags},
		"inventory":    {"catalog and stock reservations", inventoryFlags},
		"payment":      {"payments: capture, decline, refund", paymentFlags},
		"shipping":     {"shipments: schedule, cancel", shippingFlags},
		"notification": {"order confirmation and cancellation messages", notificationFlags},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: services <service> [flags]\n\nservices:")
	all := services()
	for _, n := range slices.Sorted(maps.Keys(all)) {
		fmt.Fprintf(w, "  %-13s %s\n", n, all[n].summary)
	}
	fmt.Fprintln(w, "\nrun 'services <service> --help' for its flags.")
}

// run parses args and serves until ctx ends; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	name := args[0]
	svc, ok := services()[name]
	if !ok {
		fmt.Fprintf(stderr, "services: unknown service %q\n\n", name)
		usage(stderr)
		return 2
	}
	cfg, err := parse(name, svc, args[1:], os.Getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "services %s: %v\n", name, err)
		return 2
	}
	if err := serve(ctx, name, cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "services %s: %v\n", name, err)
		return 1
	}
	return 0
}

// serve connects to Mongo and runs the service's server until ctx ends.
func serve(ctx context.Context, name string, cfg config, logOut io.Writer) error {
	logger := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: cfg.logLevel}))
	// Counting the store's commands costs a few map and counter updates per round trip; it
	// shows on /metrics what each request costs the store (docs/services.md).
	store := platform.NewStoreMetrics()
	client, err := platform.ConnectMongo(cfg.mongoURI, "ordersaga-"+name, store)
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = client.Disconnect(dctx)
	}()
	srv, err := platform.NewServer(platform.Options{Service: name, Logger: logger, Ready: platform.MongoPinger(client),
		Faults: cfg.faults, AdminAPI: cfg.adminAPI, ShutdownTimeout: cfg.shutdownTimeout, Store: store})
	if err != nil {
		return err
	}
	setUp := cfg.register(srv, client.Database(cfg.mongoDatabase))
	logger.Info("starting", "service", name, "http_addr", cfg.httpAddr, "mongo_database", cfg.mongoDatabase,
		"admin_api", cfg.adminAPI, "faults", cfg.faults.ErrorRate > 0 || cfg.faults.Latency > 0)
	return srv.Run(ctx, cfg.httpAddr, setUp)
}
