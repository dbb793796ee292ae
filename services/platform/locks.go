package platform

import (
	"hash/fnv"
	"slices"
	"sync"
)

// DocLocks serializes this process's writes to documents by ID, with striped mutexes: a
// document ID hashes (FNV-1a) to one of 64 stripes.
//
// It exists for Mongo-compatible servers that run a conditional single-document update
// (FindOneAndUpdate with a filter on the document's state) as a read followed by a write:
// FerretDB, which the local stack, the tests and the chart's mongodb.engine=ferretdb use.
// There, two concurrent conditional updates of one document can both apply. Holding a
// DocLocks lock around each such update keeps the updates of one process apart; the locks
// see only their own process, so on such a server a service that relies on them must run
// as ONE replica. On MongoDB, whose conditional updates are atomic, they are harmless with
// any number of replicas, merely serializing each process's writes per stripe.
//
// Stripes are shared: two documents whose IDs hash to the same stripe serialize each other.
// The zero value is ready to use; a DocLocks must not be copied after first use.
type DocLocks struct {
	stripes [64]sync.Mutex
}

// Lock locks the stripes of ids and returns the function that unlocks them. Stripes are
// locked in a fixed (ascending) order, each once however many of ids hash to it, so two
// callers never deadlock. Stripes are not reentrant: a goroutine holds one Lock call at a
// time, and unlocks it before locking again.
func (l *DocLocks) Lock(ids ...string) (unlock func()) {
	idx := make([]int, 0, len(ids))
	for _, id := range ids {
		idx = append(idx, l.stripe(id))
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

// stripe returns the index of id's stripe.
func (l *DocLocks) stripe(id string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id)) // a hash.Hash never returns an error
	return int(h.Sum32() % uint32(len(l.stripes)))
}
