package inventory

import (
	"hash/fnv"
	"slices"
	"sync"
)

// docLocks serializes this process's writes to one document (a product or a
// reservation), by stripes of document IDs.
//
// Correctness does not rest on it: on MongoDB each conditional update is atomic across
// every replica of the service. It is for Mongo-compatible servers that run a conditional
// update as a read followed by a write (FerretDB, which the local stack and the tests
// use): there, two concurrent takes of the last unit would both succeed. With one
// inventory process — as the local stack runs it — the stripes make those servers safe.
type docLocks struct {
	stripes [64]sync.Mutex
}

// lock locks the stripes of ids, in a fixed order so that two callers never deadlock,
// and returns the function that unlocks them.
func (l *docLocks) lock(ids ...string) (unlock func()) {
	idx := make([]int, 0, len(ids))
	for _, id := range ids {
		h := fnv.New32a()
		_, _ = h.Write([]byte(id))
		idx = append(idx, int(h.Sum32()%uint32(len(l.stripes))))
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		l.stripes[i].Lock()
	}
	return func() {
		for _, i := range slices.Backward(idx) {
			l.stripes[i].Unlock()
		}
	}
}
