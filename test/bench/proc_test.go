package bench

import (
	"os"
	"testing"
	"time"
)

func TestReadProcStatOfSelf(t *testing.T) {
	st, err := readProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.ppid != os.Getppid() || st.comm == "" {
		t.Errorf("got %+v; want ppid %d and a command name", st, os.Getppid())
	}
	rss, err := residentBytes(os.Getpid(), "VmRSS")
	if err != nil || rss <= 0 {
		t.Errorf("VmRSS: %d, %v", rss, err)
	}
}

func TestHostCPU(t *testing.T) {
	host, err := hostCPU()
	if err != nil {
		t.Fatal(err)
	}
	self, err := selfCPU()
	if err != nil {
		t.Fatal(err)
	}
	if host < self {
		t.Errorf("host CPU %s is less than this process's %s", host, self)
	}
}

func TestPercentile(t *testing.T) {
	var sorted []time.Duration
	for i := 1; i <= 100; i++ {
		sorted = append(sorted, time.Duration(i)*time.Millisecond)
	}
	s := summarize(sorted)
	if s.P50 != 50*time.Millisecond || s.P99 != 99*time.Millisecond || s.Max != 100*time.Millisecond {
		t.Errorf("got %+v", s)
	}
	if one := summarize([]time.Duration{time.Second}); one.P50 != time.Second || one.P99 != time.Second {
		t.Errorf("one sample: %+v", one)
	}
}

// TestJudgeBacklog: completions that follow arrivals by a fixed latency keep up; those that
// stop half way through the second half do not.
func TestJudgeBacklog(t *testing.T) {
	start := time.Unix(1000, 0)
	const rate, seconds = 10, 20
	cr := &created{sent: map[string]time.Time{}, windowStart: start, window: seconds * time.Second}
	keep, lag := map[string]ending{}, map[string]ending{}
	for i := range rate * seconds {
		name := string(rune('a'+i%26)) + time.Duration(i).String()
		at := start.Add(time.Duration(i) * time.Second / rate)
		cr.sent[name] = at
		keep[name] = ending{at: at.Add(time.Second)}
		if at.Before(start.Add(14 * time.Second)) {
			lag[name] = ending{at: at.Add(time.Second)}
		}
	}
	if v := judgeBacklog(rate, cr, keep); !v.KeptUp {
		t.Errorf("steady completions judged not keeping up: %+v", v)
	}
	if v := judgeBacklog(rate, cr, lag); v.KeptUp {
		t.Errorf("stalled completions judged keeping up: %+v", v)
	}
}
