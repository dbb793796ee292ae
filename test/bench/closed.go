package bench

import (
	"context"
	"fmt"
)

// runClosed is `make bench`: the controller under a closed loop (once per manager kind),
// then both ceilings, with requests, CPU and status size per saga.
func runClosed(ctx context.Context, s *Stack, cfg Config) (*Report, error) {
	r := newReport(ModeClosed, cfg.Command, s)
	runs, c, err := closedRunsAndCeilings(ctx, s, cfg)
	if err != nil {
		return nil, err
	}
	r.Section("Throughput and latency", fmt.Sprintf("Closed loop: %d sagas created by %d concurrent clients; each client sends its next create when the last one returned.", cfg.Sagas, cfg.Clients))
	throughputTable(r, runs, c)
	for _, run := range runs {
		r.Headline[string(run.Manager)+"-sagas/s"] = run.Rate()
		r.Headline[string(run.Manager)+"-p99-ms"] = float64(run.Latency.P99.Milliseconds())
		r.Headline[string(run.Manager)+"-%-of-status-ceiling"] = 100 * run.Rate() / c.CreateStatus.Rate()
		r.Headline[string(run.Manager)+"-%-of-unwatched-status-ceiling"] = 100 * run.Rate() / c.CreateStatusUnwatched.Rate()
	}
	r.Section("Cost per completed saga", "")
	costTable(r, runs, c)
	r.Section("Requests per saga by verb and resource", "")
	requestsTable(r, requestColumns(runs, c))
	r.Section("How each figure is measured", "")
	r.Notes(methodNotes()...)
	return r, nil
}

// closedRunsAndCeilings runs the controller once per manager kind, then both ceilings with
// the status of a saga the first run completed.
func closedRunsAndCeilings(ctx context.Context, s *Stack, cfg Config) ([]ControllerRun, Ceilings, error) {
	var runs []ControllerRun
	for _, kind := range cfg.Managers {
		run, err := s.measureController(ctx, controllerOptions{Name: "closed-" + string(kind), Manager: kind,
			Workers: cfg.Workers, Timeout: cfg.Timeout}, closedLoop(cfg.Sagas, cfg.Clients))
		if err != nil {
			return nil, Ceilings{}, fmt.Errorf("closed loop, manager %s: %w", kind, err)
		}
		runs = append(runs, run)
	}
	c, err := s.measureCeilings(ctx, cfg.Sagas, cfg.Clients, runs[0].LastStatus)
	if err != nil {
		return nil, c, fmt.Errorf("ceilings: %w", err)
	}
	return runs, c, nil
}
