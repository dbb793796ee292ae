// Command ferretdb-launcher runs an embedded FerretDB v1 (SQLite backend) as a
// MongoDB wire-protocol server for tests and the local stack.
//
// Why a launcher: the upstream CLI built with `go install` panics at start-up
// because a generated version file is missing from the module zip; the
// embeddable package does not need it. It lives in its own module so that
// FerretDB's large dependency tree stays out of the project's go.mod.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data-dir", "", "directory for the SQLite databases (required)")
	// Error by default: at warning level FerretDB logs every command it does not implement
	// (the driver's endSessions on each disconnect), which drowns the test and stack logs.
	level := flag.String("log-level", "error", "debug, info, warn or error")
	// Full by default: the chart's ferretdb engine keeps every acknowledged write through a
	// power loss. The tests and the local stack (internal/mongoserver) choose normal.
	synchronous := flag.String("sqlite-synchronous", "full",
		"full: a write is on disk when it is acknowledged; normal: in SQLite's WAL mode it survives a crash of this "+
			"process, but a crash of the machine may lose the last acknowledged writes (never the database)")
	flag.Parse()
	if err := run(*listen, *dataDir, *level, *synchronous); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb-launcher:", err)
		os.Exit(1)
	}
}

func run(listen, dataDir, levelName, synchronous string) error {
	if dataDir == "" {
		return fmt.Errorf("--data-dir is required")
	}
	if synchronous != "full" && synchronous != "normal" {
		return fmt.Errorf("--sqlite-synchronous: %q is neither full nor normal", synchronous)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(levelName)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	// FerretDB adds its own pragmas (WAL journal, busy timeout) to this one; each applies to
	// every connection it opens.
	sqliteURL := "file:" + dataDir + "/?_pragma=synchronous(" + synchronous + ")"
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return fmt.Errorf("start ferretdb: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return f.Run(ctx)
}
