package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/ordersaga/ordersaga/services/platform"
)

// config is what every service needs, parsed from flags and environment.
type config struct {
	httpAddr, mongoURI, mongoDatabase string
	logLevel                          slog.Level
	shutdownTimeout                   time.Duration
	faults                            platform.FaultConfig
	adminAPI                          bool
	register                          registrar
}

// parse reads the common flags and the service's own, each defaulting to its environment
// variable. An environment value that does not parse is an error, like a bad flag.
func parse(name string, svc service, args []string, env envFunc, out io.Writer) (config, error) {
	fs := flag.NewFlagSet("services "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	e := &envDefaults{env: env}
	var c config
	fs.StringVar(&c.httpAddr, "http-addr", e.str("HTTP_ADDR", ":8080"), "HTTP listen address (env HTTP_ADDR)")
	fs.StringVar(&c.mongoURI, "mongo-uri", e.str("MONGO_URI", "mongodb://127.0.0.1:27017"), "MongoDB connection string (env MONGO_URI)")
	fs.StringVar(&c.mongoDatabase, "mongo-database", e.str("MONGO_DATABASE", "ordersaga_"+name), "database of this service (env MONGO_DATABASE)")
	level := fs.String("log-level", e.str("LOG_LEVEL", "info"), "debug, info, warn or error (env LOG_LEVEL)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", e.duration("SHUTDOWN_TIMEOUT", 15*time.Second), "graceful drain on SIGTERM (env SHUTDOWN_TIMEOUT)")
	fs.Float64Var(&c.faults.ErrorRate, "fault-error-rate", e.float("FAULT_ERROR_RATE", 0), "probability 0..1 of an injected 503 (env FAULT_ERROR_RATE; chaos tests only)")
	latency := fs.Duration("fault-latency", e.duration("FAULT_LATENCY", 0), "latency added to affected requests (env FAULT_LATENCY)")
	routes := fs.String("fault-routes", e.str("FAULT_ROUTES", ""), "comma-separated route patterns or path prefixes faults apply to; empty: all business routes (env FAULT_ROUTES)")
	fs.StringVar(&c.faults.Phase, "fault-phase", e.str("FAULT_PHASE", platform.FaultBefore), "before: 503 instead of the action; after: the action runs, its answer is lost (env FAULT_PHASE)")
	fs.BoolVar(&c.adminAPI, "admin-api", e.boolean("ADMIN_API", false), "serve GET/PUT /admin/faults to change fault injection at run time (env ADMIN_API)")
	build := svc.flags(fs, e)
	if e.err != nil {
		return c, e.err
	}
	if err := fs.Parse(args); err != nil {
		return c, fmt.Errorf("flags: %w", err) // errors.Is still finds flag.ErrHelp
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return c, fmt.Errorf("--log-level: %w", err)
	}
	c.faults.Latency, c.faults.Routes = platform.Duration(*latency), platform.SplitList(*routes)
	if e := c.faults.Validate(); e != nil {
		return c, fmt.Errorf("fault injection: %s %s", e.Field, e.Message)
	}
	reg, err := build()
	c.register = reg
	return c, err
}

// envDefaults turns environment variables into flag defaults and remembers the first one
// that does not parse.
type envDefaults struct {
	env envFunc
	err error
}

func (e *envDefaults) str(k, def string) string {
	if v := e.env(k); v != "" {
		return v
	}
	return def
}

// envValue returns the variable k read by parse, or def when k is unset or an earlier
// variable did not parse; one that does not parse is remembered, named, in e.err.
func envValue[T any](e *envDefaults, k string, def T, parse func(string) (T, error)) T {
	v := e.env(k)
	if v == "" || e.err != nil {
		return def
	}
	x, err := parse(v)
	if err != nil {
		e.err = fmt.Errorf("environment %s=%q: %w", k, v, err)
		return def
	}
	return x
}

func (e *envDefaults) duration(k string, def time.Duration) time.Duration {
	return envValue(e, k, def, time.ParseDuration)
}

func (e *envDefaults) float(k string, def float64) float64 {
	return envValue(e, k, def, func(v string) (float64, error) { return strconv.ParseFloat(v, 64) })
}

func (e *envDefaults) boolean(k string, def bool) bool {
	return envValue(e, k, def, strconv.ParseBool)
}
