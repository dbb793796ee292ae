package sagasim

import (
	"fmt"
	"strings"
	"time"
)

// trace is the schedule as it happened: a short, readable event list that a failing
// seed prints, so that a person can follow it without a debugger.
type trace struct {
	start  time.Time
	clock  *Clock
	events []string
	// last and repeats fold a run of equal events (a saga polled while it waits) into one line.
	last    string
	repeats int
}

func (t *trace) addf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if msg == t.last {
		t.repeats++
		return
	}
	t.flush()
	t.last = msg
	at := t.clock.Now().Sub(t.start)
	t.events = append(t.events, fmt.Sprintf("%10s  %s", at.Round(time.Millisecond), msg))
}

func (t *trace) flush() {
	if t.repeats > 0 {
		t.events = append(t.events, fmt.Sprintf("%10s  (the line above %d more times)", "", t.repeats))
		t.repeats = 0
	}
}

func (t *trace) String() string {
	t.flush()
	return strings.Join(t.events, "\n")
}
