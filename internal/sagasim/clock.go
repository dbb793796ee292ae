package sagasim

import "time"

// Clock is the simulation's time: it moves only when the simulator moves it.
type Clock struct {
	now time.Time
}

// Now returns the simulated time.
func (c *Clock) Now() time.Time { return c.now }

// Advance moves the clock forward by d (never backwards).
func (c *Clock) Advance(d time.Duration) {
	if d > 0 {
		c.now = c.now.Add(d)
	}
}

// AdvanceTo moves the clock to t when t is later.
func (c *Clock) AdvanceTo(t time.Time) {
	if t.After(c.now) {
		c.now = t
	}
}
