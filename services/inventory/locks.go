package inventory

import (
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
)

// WriteSerialization says what keeps two conditional updates of one document (a product's
// stock, a reservation's status) from interleaving.
type WriteSerialization string

const (
	// SerializeNone relies on the store: each conditional update is one atomic
	// single-document operation. That is what MongoDB guarantees, so any number of
	// inventory replicas may share one database. Use it on a real MongoDB only.
	SerializeNone WriteSerialization = "none"
	// SerializeProcess also serializes this process's writes per document (striped
	// locks). It exists for Mongo-compatible servers that run a conditional update as a
	// read followed by a write (FerretDB, which the local stack and the tests use): there,
	// two concurrent takes of the last unit would both succeed. The locks only see this
	// process, so on such a server the inventory must run as ONE replica. On MongoDB it is
	// safe with any number of replicas, merely slower on hot products.
	SerializeProcess WriteSerialization = "process"
)

// WriteSerializations lists the valid modes, the safe default first.
func WriteSerializations() []WriteSerialization {
	return []WriteSerialization{SerializeProcess, SerializeNone}
}

// Guarantee says in one sentence what the mode relies on and allows; it is logged at
// start-up.
func (m WriteSerialization) Guarantee() string {
	switch m {
	case SerializeNone:
		return "relies on the store's atomic conditional updates (MongoDB): any number of replicas may share the database"
	case SerializeProcess:
		return "serializes this process's writes per document: safe on FerretDB with ONE replica, and on MongoDB with any number"
	}
	return "unknown mode"
}

// ParseWriteSerialization returns the mode named s.
func ParseWriteSerialization(s string) (WriteSerialization, error) {
	if m := WriteSerialization(s); slices.Contains(WriteSerializations(), m) {
		return m, nil
	}
	return "", fmt.Errorf("unknown write serialization %q (want %q or %q)", s, SerializeProcess, SerializeNone)
}

// locker serializes writes to documents by ID.
type locker interface {
	// lock locks ids and returns the function that unlocks them.
	lock(ids ...string) (unlock func())
}

var (
	_ locker = (*docLocks)(nil)
	_ locker = noLocks{}
)

// newLocker returns the locker of mode m. It panics on an unknown mode: callers pass a
// constant or a value checked by ParseWriteSerialization.
func newLocker(m WriteSerialization) locker {
	switch m {
	case SerializeNone:
		return noLocks{}
	case SerializeProcess:
		return &docLocks{}
	}
	panic(fmt.Sprintf("inventory: unknown write serialization %q", m))
}

// noLocks is SerializeNone: the store's atomic conditional updates are the only guard.
type noLocks struct{}

func (noLocks) lock(...string) func() { return func() {} }

// docLocks is SerializeProcess: it serializes this process's writes to one document (a
// product or a reservation) by stripes of document IDs.
type docLocks struct {
	stripes [64]sync.Mutex
}

// lock locks the stripes of ids, in a fixed order so that two callers never deadlock,
// and returns the function that unlocks them. Stripes are not reentrant: a caller holds
// one lock call at a time.
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
