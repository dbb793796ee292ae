package saga

import (
	"hash/fnv"
	"strconv"
	"time"
)

// jitterFraction is the largest share of a delay that jitter removes. Jitter spreads the
// retries of sagas that failed together (a service outage) so they do not return together.
const jitterFraction = 0.2

// Backoff returns the wait after the attempt-th failed call: initial * 2^(attempt-1),
// capped at limit, less a jitter of up to 20%. The jitter is drawn from a hash of seed and
// attempt rather than a random source, so that equal inputs give equal decisions.
func Backoff(initial, limit time.Duration, attempt int32, seed string) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := initial
	for i := int32(1); i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	h := fnv.New64a()
	_, _ = h.Write([]byte(seed))
	_, _ = h.Write([]byte(strconv.Itoa(int(attempt))))
	u := float64(h.Sum64()>>11) / float64(1<<53) // uniform in [0, 1)
	return d - time.Duration(float64(d)*jitterFraction*u)
}
