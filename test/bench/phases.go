package bench

import "time"

// latencyPhases splits a saga's latency, create to Completed as the watch saw it, at the
// times the controller stamped in its status (one host, one clock):
//   - ToStart: from the create's send to status.startedAt, the first step's start: the
//     create request, the informer's delivery, the workqueue and the wait for a worker;
//   - Run: from startedAt to status.finishedAt: the calls and the pivot's checkpoint write;
//   - ToSeen: from finishedAt to the watch event: the final status write and its delivery.
type latencyPhases struct {
	ToStart, Run, ToSeen latencySummary
}

// phaseSamples collects the three phases of each saga that has both timestamps.
type phaseSamples struct {
	toStart, run, toSeen []time.Duration
}

func (p *phaseSamples) add(sent time.Time, e ending) {
	started, finished := e.status.StartedAt, e.status.FinishedAt
	if started == nil || finished == nil {
		return
	}
	p.toStart = append(p.toStart, started.Sub(sent))
	p.run = append(p.run, finished.Sub(started.Time))
	p.toSeen = append(p.toSeen, e.at.Sub(finished.Time))
}

func (p *phaseSamples) summarize() latencyPhases {
	return latencyPhases{ToStart: summarize(p.toStart), Run: summarize(p.run), ToSeen: summarize(p.toSeen)}
}
