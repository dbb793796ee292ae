package bench

import (
	"context"
	"fmt"
	"strconv"
)

// runOpenLoop is `make bench-openloop`: the closed loop and the ceilings, the search for
// the saturation rate, then latency at fixed shares of that rate.
func runOpenLoop(ctx context.Context, s *Stack, cfg Config) (*Report, error) {
	r := newReport(ModeOpenLoop, cfg.Command, s)
	cfg.Managers = cfg.Managers[:1]
	runs, c, err := closedRunsAndCeilings(ctx, s, cfg)
	if err != nil {
		return nil, err
	}
	o := openLoopOptions{
		controllerOptions: controllerOptions{Manager: cfg.Managers[0], Workers: cfg.Workers, Timeout: cfg.Timeout},
		Window:            cfg.Window, Arrivals: cfg.Arrivals, Seed: cfg.Seed,
	}
	sat, err := s.searchSaturation(ctx, o, runs[0].Rate(), cfg.SearchSteps)
	if err != nil {
		return nil, fmt.Errorf("saturation search: %w", err)
	}
	var points []ControllerRun
	for _, f := range loadShares {
		run, err := s.measureOpenLoop(ctx, o, f*sat.Rate)
		if err != nil {
			return nil, fmt.Errorf("open loop at %.0f %%: %w", 100*f, err)
		}
		points = append(points, run)
	}
	r.Section("Closed loop and ceilings", fmt.Sprintf("%d sagas, %d clients: where the search starts.", cfg.Sagas, cfg.Clients))
	throughputTable(r, runs, c)
	satText := fmt.Sprintf("Saturation: **%.1f sagas/s** (%s of the create ceiling, %s of the create+status ceiling)",
		sat.Rate, share(sat.Rate, c.Create.Rate()), share(sat.Rate, c.CreateStatus.Rate()))
	if sat.Capped {
		satText += "; AT LEAST: no probed rate failed"
	}
	r.Headline["saturation-sagas/s"] = sat.Rate
	r.Section("Saturation search", satText+".\n\n"+searchText(cfg))
	probeTable(r, sat.Probes)
	r.Section("Latency under open-loop load", fmt.Sprintf("%s arrivals for %s at each share of the saturation rate.", cfg.Arrivals, cfg.Window))
	pointTable(r, points, sat.Rate)
	r.Section("Where the latency goes", "Each completed saga's latency split at the times the controller stamped in its status: "+
		"status.startedAt (its first step started) and status.finishedAt (it reached Completed). The same host's clock throughout.")
	phaseTable(r, points, sat.Rate)
	r.Section("How each figure is measured", "")
	r.Notes(methodNotes()...)
	return r, nil
}

func searchText(cfg Config) string {
	return fmt.Sprintf("Each probe: %s arrivals for %s, in a new namespace with a new manager. A rate KEEPS UP when, over the "+
		"second half of the window, sagas ended ≥ %.0f %% of sagas arrived, the backlog (created, not ended) averaged over "+
		"the last tenth of the window exceeds its average over [0.4, 0.5] of the window by no more than max(%d, %.0f %% of "+
		"the half's arrivals), and every saga completed once the arrivals stopped. From the closed loop's rate, the rate "+
		"grows (or shrinks) ×%.1f until one rate keeps up and another does not, then is bisected %d times (or until within %.0f %%).",
		cfg.Arrivals, cfg.Window, 100*keepUpRatio, backlogSlackMin, 100*backlogSlackShare, growFactor, cfg.SearchSteps, 100*(bisectEnough-1))
}

func probeTable(r *Report, probes []ControllerRun) {
	header := []string{"rate asked /s", "arrivals", "ended/arrived (2nd half)", "backlog mid → end", "allowance", "all completed", "kept up", colP50, colP99}
	rows := make([][]string, 0, len(probes))
	for _, p := range probes {
		v := p.Backlog
		rows = append(rows, []string{rate(v.Rate), strconv.Itoa(v.Arrivals), fmt.Sprintf("%.2f", v.CompletionRatio),
			fmt.Sprintf("%.1f → %.1f", v.BacklogMid, v.BacklogEnd), fmt.Sprintf("%.1f", v.Allowance),
			strconv.FormatBool(p.Other == 0), strconv.FormatBool(v.KeptUp && p.Other == 0), ms(p.Latency.P50), ms(p.Latency.P99)})
	}
	r.Table(header, rows)
}

// phaseTable shows where each point's latency went (latencyPhases).
func phaseTable(r *Report, points []ControllerRun, saturation float64) {
	header := []string{"load", "create → first step p50", colP99, "first step → finished p50", colP99, "finished → seen p50", colP99}
	rows := make([][]string, 0, len(points))
	for _, p := range points {
		ph := p.Phases
		rows = append(rows, []string{share(p.Backlog.Rate, saturation), ms(ph.ToStart.P50), ms(ph.ToStart.P99),
			ms(ph.Run.P50), ms(ph.Run.P99), ms(ph.ToSeen.P50), ms(ph.ToSeen.P99)})
	}
	r.Table(header, rows)
}

func pointTable(r *Report, points []ControllerRun, saturation float64) {
	header := []string{"load", "rate /s", "arrivals", colCompleted, colP50, colP99, colMax, "kept up",
		colAPIRequests, colAPICPU, colEtcdCPU}
	rows := make([][]string, 0, len(points))
	for _, p := range points {
		v, u, n := p.Backlog, p.Usage, p.Completed
		rows = append(rows, []string{share(v.Rate, saturation), rate(v.Rate), strconv.Itoa(v.Arrivals), strconv.Itoa(n),
			ms(p.Latency.P50), ms(p.Latency.P99), ms(p.Latency.Max), strconv.FormatBool(v.KeptUp && p.Other == 0),
			perSaga(u.APIServer.Total(anyRequest), n), cpuPerSaga(u.APIServerCPU, n), cpuPerSaga(u.EtcdCPU, n)})
	}
	r.Table(header, rows)
}
