package inventory

import (
	"fmt"
	"slices"

	"github.com/ordersaga/ordersaga/services/platform"
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
	// locks, platform.DocLocks). It exists for Mongo-compatible servers that run a
	// conditional update as a read followed by a write (FerretDB, which the local stack and
	// the tests use): there, two concurrent takes of the last unit would both succeed. The
	// locks only see this process, so on such a server the inventory must run as ONE
	// replica. On MongoDB it is safe with any number of replicas, merely slower on hot
	// products.
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
	// Lock locks ids and returns the function that unlocks them.
	Lock(ids ...string) (unlock func())
}

var (
	_ locker = (*platform.DocLocks)(nil)
	_ locker = noLocks{}
)

// newLocker returns the locker of mode m. It panics on an unknown mode: callers pass a
// constant or a value checked by ParseWriteSerialization.
func newLocker(m WriteSerialization) locker {
	switch m {
	case SerializeNone:
		return noLocks{}
	case SerializeProcess:
		// A product or a reservation, by stripes of document IDs (see platform.DocLocks).
		return &platform.DocLocks{}
	}
	panic(fmt.Sprintf("inventory: unknown write serialization %q", m))
}

// noLocks is SerializeNone: the store's atomic conditional updates are the only guard.
type noLocks struct{}

func (noLocks) Lock(...string) func() { return func() {} }
