package bench

import (
	"context"
	"fmt"
	"time"
)

// sample is every counter the benchmark reads, at one moment.
type sample struct {
	at           time.Time
	apiserver    Counts // apiserver_request_total, from every client
	apiserverCPU time.Duration
	etcdCPU      time.Duration
	processCPU   time.Duration // the manager's process: this one when it runs in process
	manager      Counts        // the manager's own requests; nil when not counted
	bench        Counts        // the benchmark's own requests
	benchCPU     time.Duration // this process: the fake services, the clients and the watch (and the manager in process)
	writeTime    serverTime    // the API server's time on OrderSaga writes
	// watchesClosed: watches the API server closed because their events backed up.
	watchesClosed float64
}

// Usage is what one measurement cost, between two samples.
type Usage struct {
	Window    time.Duration
	APIServer Counts
	Manager   Counts // nil when the manager's requests were not counted
	// Bench are the benchmark's own requests: its creates, status patches and watch.
	Bench        Counts
	APIServerCPU time.Duration
	EtcdCPU      time.Duration
	ProcessCPU   time.Duration
	// ProcessLabel says whose CPU ProcessCPU is.
	ProcessLabel string
	// BenchCPU is this process's: the fake services, the benchmark's clients and watch,
	// and the manager when it runs in process.
	BenchCPU time.Duration
	// Writes and WriteTime: the OrderSaga writes (POST, PATCH, PUT, status included) of
	// every client, and the API server's summed time on them.
	Writes    int64
	WriteTime time.Duration
	// WatchesClosed are the watches (of any client) the API server closed because their
	// events backed up; each is re-opened and partly sent again.
	WatchesClosed int64
}

// Process labels.
const (
	labelBenchProcess   = "bench process (manager + fake services + clients)"
	labelClientsOnly    = "bench process (clients only)"
	labelManagerProcess = "cmd/manager process"
)

// takeSample reads the counters; m may be nil when no controller runs.
func (s *Stack) takeSample(ctx context.Context, m manager) (sample, error) {
	smp := sample{at: time.Now(), bench: s.bench.Snapshot()}
	page, err := s.metrics.Requests(ctx)
	if err != nil {
		return smp, err
	}
	smp.apiserver, smp.writeTime, smp.watchesClosed = page.requests, page.writeTime, page.watchesClosed
	if smp.benchCPU, err = selfCPU(); err != nil {
		return smp, err
	}
	if smp.apiserverCPU, err = processCPU(s.APIServer); err != nil {
		return smp, err
	}
	if smp.etcdCPU, err = processCPU(s.Etcd); err != nil {
		return smp, err
	}
	if m == nil {
		smp.processCPU, err = selfCPU()
	} else {
		smp.processCPU, err = m.CPU()
		smp.manager = m.Requests()
	}
	if err != nil {
		return smp, fmt.Errorf("manager cpu: %w", err)
	}
	return smp, nil
}

// usageBetween is what happened from before to after.
func usageBetween(before, after sample, label string) Usage {
	u := Usage{
		Window:        after.at.Sub(before.at),
		APIServer:     after.apiserver.Sub(before.apiserver),
		APIServerCPU:  after.apiserverCPU - before.apiserverCPU,
		EtcdCPU:       after.etcdCPU - before.etcdCPU,
		ProcessCPU:    after.processCPU - before.processCPU,
		ProcessLabel:  label,
		Bench:         after.bench.Sub(before.bench),
		BenchCPU:      after.benchCPU - before.benchCPU,
		Writes:        int64(after.writeTime.count - before.writeTime.count),
		WriteTime:     time.Duration((after.writeTime.seconds - before.writeTime.seconds) * float64(time.Second)),
		WatchesClosed: int64(after.watchesClosed - before.watchesClosed),
	}
	if after.manager != nil {
		u.Manager = after.manager.Sub(before.manager)
	}
	return u
}

// Quiet: the window closes once the API server has served no resource request for
// quietFor (the manager's Events are sent asynchronously, after the write that caused
// them), or after quietMax.
const (
	quietFor = time.Second
	quietMax = 10 * time.Second
)

// quiesce waits until the API server is quiet. Requests without a resource (the
// benchmark's own scrapes of /metrics) do not count.
func (s *Stack) quiesce(ctx context.Context) error {
	deadline := time.Now().Add(quietMax)
	last, err := s.metrics.RequestTotals(ctx)
	if err != nil {
		return err
	}
	for time.Now().Before(deadline) {
		settle(ctx, quietFor)
		now, err := s.metrics.RequestTotals(ctx)
		if err != nil {
			return err
		}
		if now.Sub(last).Total(hasResource) == 0 {
			return nil
		}
		last = now
	}
	return nil
}

func hasResource(r Request) bool { return r.Resource != "" }

// NotBench is the API server's count of resource requests less the benchmark's own: the
// manager's requests when it runs in its own process, plus the API server's own (its
// identity lease, its endpoints), which no column can tell apart.
func (u Usage) NotBench() Counts {
	out := Counts{}
	for k, n := range u.APIServer.Sub(u.Bench) {
		if hasResource(k) {
			out[k] = n
		}
	}
	return out
}
