package shard

import (
	"slices"
)

// Ring assigns keys to members by rendezvous (highest-random-weight) hashing: each key goes
// to the member with the highest weight hash(member, key). Rendezvous hashing is chosen over
// a ring of virtual nodes because it moves the least possible keys (removing a member moves
// only that member's keys; adding one moves about 1/n, all to the new member), spreads keys
// evenly without tuning, and needs no state beyond the member names. Its O(n) lookup is
// cheap at the size of a replica set.
//
// The weights come from FNV-1a 64 finalized by the splitmix64 mixer, both fixed
// algorithms: every process, whatever its version of Go, computes the same owner, which
// the replicas depend on (hash/maphash, for one, is seeded per process). Changing the hash
// would make two versions disagree during a rolling update, so it is pinned by tests.
//
// The zero Ring has no members and owns nothing. A Ring is immutable and safe for
// concurrent use.
type Ring struct {
	// members is sorted and free of duplicates, so ties (equal weights, in practice never)
	// break the same way everywhere: to the member that sorts first.
	members []string
	// seeds[i] is the FNV-1a state after members[i] and the separator, so a lookup hashes
	// only the key once per member.
	seeds []uint64
}

// NewRing returns a ring over a sorted, de-duplicated copy of members. Empty names are
// dropped: Owner's "" means "no owner".
func NewRing(members []string) Ring {
	ms := make([]string, 0, len(members))
	for _, m := range members {
		if m != "" {
			ms = append(ms, m)
		}
	}
	slices.Sort(ms)
	ms = slices.Compact(ms)
	seeds := make([]uint64, len(ms))
	for i, m := range ms {
		// The zero byte separates the member from the key, so that ("ab", "c") and
		// ("a", "bc") are different inputs.
		seeds[i] = fnv1a(fnv1a(fnvOffset64, m), "\x00")
	}
	return Ring{members: ms, seeds: seeds}
}

// Owner returns the member that key belongs to, or "" when the ring has no members.
func (r Ring) Owner(key string) string {
	best, owner := uint64(0), ""
	for i, seed := range r.seeds {
		w := mix64(fnv1a(seed, key))
		// Strictly greater: on a tie the earlier (smaller) name keeps the key.
		if owner == "" || w > best {
			best, owner = w, r.members[i]
		}
	}
	return owner
}

// Members returns a copy of the sorted member names.
func (r Ring) Members() []string { return slices.Clone(r.members) }

// Len returns the number of members.
func (r Ring) Len() int { return len(r.members) }

// FNV-1a 64 parameters (http://www.isthe.com/chongo/tech/comp/fnv/).
const (
	fnvOffset64 uint64 = 14695981039346656037
	fnvPrime64  uint64 = 1099511628211
)

// fnv1a continues the FNV-1a 64 hash h over the bytes of s. It is written out rather than
// taken from hash/fnv so that a lookup neither allocates nor converts the key to []byte.
func fnv1a(h uint64, s string) uint64 {
	for i := range len(s) {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	return h
}

// mix64 is splitmix64's finalizer. FNV-1a alone mixes the last bytes of its input poorly
// into the high bits, and UIDs that share a prefix would then compare by little more than
// their last characters; the finalizer gives every input bit an effect on every output bit.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
