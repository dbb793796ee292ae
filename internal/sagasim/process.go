package sagasim

import "errors"

// errCrashed is what an operation gets after the manager process crashed: it never
// reaches the API server or the services.
var errCrashed = errors.New("sagasim: the manager process crashed before this operation")

// process is one incarnation of the manager. It counts the operations that leave the
// process (HTTP calls and API writes) within a reconcile, and crashes before the one the
// schedule chose: that operation and every later one of this reconcile never happen. A
// deferred status write therefore cannot sneak out of a crashed reconcile.
type process struct {
	incarnation int
	ops         int
	crashAt     int // 0: no crash in this reconcile
	dead        bool
}

// begin starts a reconcile that crashes before its crashAt-th operation (0: never).
func (p *process) begin(crashAt int) {
	p.ops, p.crashAt = 0, crashAt
}

// op reports whether the next operation may leave the process.
func (p *process) op() bool {
	if p.dead {
		return false
	}
	p.ops++
	if p.ops == p.crashAt {
		p.dead = true
	}
	return !p.dead
}
