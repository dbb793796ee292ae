package shard

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// uuids returns n random version-4 UUID strings from a fixed seed, so that a failure
// reproduces.
func uuids(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	out := make([]string, n)
	for i := range out {
		hi, lo := r.Uint64(), r.Uint64()
		out[i] = fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x",
			hi>>32, (hi>>16)&0xffff, hi&0xfff, 0x8000|(lo>>48)&0x3fff, lo&0xffffffffffff)
	}
	return out
}

// owners maps each key to its owner in r.
func owners(r Ring, keys []string) map[string]string {
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		out[k] = r.Owner(k)
	}
	return out
}

// The hash is part of the protocol between replicas: two versions that hash differently
// would disagree on owners during a rolling update. These values pin it.
func TestHashIsPinned(t *testing.T) {
	tests := []struct {
		name string
		got  uint64
		want uint64
	}{
		// Reference vectors of FNV-1a 64.
		{"fnv1a empty", fnv1a(fnvOffset64, ""), 0xcbf29ce484222325},
		{"fnv1a a", fnv1a(fnvOffset64, "a"), 0xaf63dc4c8601ec8c},
		{"fnv1a foobar", fnv1a(fnvOffset64, "foobar"), 0x85944171f73967e8},
		// splitmix64's first output for seed 0 is the finalizer of its first state.
		{"mix64 splitmix64 seed 0", mix64(0x9e3779b97f4a7c15), 0xe220a8397b1dcdaf},
		{"mix64 zero", mix64(0), 0},
		// The weights of the ring: FNV-1a of member, a zero byte and key, then mix64.
		{"weight manager-0 saga", mix64(fnv1a(fnvOffset64, "manager-0\x00saga")), 0x8ac2a8d99128d3b8},
		{"weight manager-1 saga", mix64(fnv1a(fnvOffset64, "manager-1\x00saga")), 0xd5700d038f07b97f},
		{"weight manager-2 saga", mix64(fnv1a(fnvOffset64, "manager-2\x00saga")), 0xbdd0144714c72370},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %#x, want %#x", tt.got, tt.want)
			}
		})
	}
}

// Owners of fixed keys, computed once: a change here means replicas of the old and the new
// version would split sagas differently.
func TestOwnerIsPinned(t *testing.T) {
	r := NewRing([]string{"manager-0", "manager-1", "manager-2"})
	tests := []struct{ key, want string }{
		{"00000000-0000-0000-0000-000000000000", "manager-1"},
		{"9f1c2b7e-4d3a-4c5b-8e6f-0a1b2c3d4e5f", "manager-2"},
		{"c0ffee00-1234-4abc-9def-0123456789ab", "manager-2"},
		{"saga", "manager-1"},
		{"a", "manager-2"},
		{"b", "manager-0"},
	}
	for _, tt := range tests {
		if got := r.Owner(tt.key); got != tt.want {
			t.Errorf("Owner(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

func TestNewRing(t *testing.T) {
	tests := []struct {
		name    string
		members []string
		want    []string
	}{
		{"nil", nil, []string{}},
		{"sorted", []string{"b", "a", "c"}, []string{"a", "b", "c"}},
		{"deduplicated", []string{"b", "a", "b", "a"}, []string{"a", "b"}},
		{"empty names dropped", []string{"", "a", ""}, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.members)
			r := NewRing(in)
			if got := r.Members(); !slices.Equal(got, tt.want) || r.Len() != len(tt.want) {
				t.Errorf("Members() = %q (Len %d), want %q", got, r.Len(), tt.want)
			}
			if !slices.Equal(in, tt.members) {
				t.Errorf("NewRing changed its argument: %q", in)
			}
		})
	}
}

func TestRingCopies(t *testing.T) {
	in := []string{"a", "b"}
	r := NewRing(in)
	in[0] = "z"
	got := r.Members()
	got[1] = "y"
	if want := []string{"a", "b"}; !slices.Equal(r.Members(), want) {
		t.Errorf("Members() = %q after the caller changed its slices, want %q", r.Members(), want)
	}
}

func TestEmptyRingOwnsNothing(t *testing.T) {
	for _, r := range []Ring{{}, NewRing(nil), NewRing([]string{""})} {
		if got := r.Owner("any"); got != "" {
			t.Errorf("Owner on an empty ring = %q, want \"\"", got)
		}
	}
}

func TestOwnerIsDeterministic(t *testing.T) {
	keys := uuids(2000, 1)
	tests := []struct {
		name string
		a, b []string
	}{
		{"same order", []string{"a", "b", "c"}, []string{"a", "b", "c"}},
		{"any order", []string{"a", "b", "c"}, []string{"c", "a", "b"}},
		{"duplicates", []string{"a", "b", "c"}, []string{"c", "a", "b", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ra, rb := NewRing(tt.a), NewRing(tt.b)
			for _, k := range keys {
				oa, ob := ra.Owner(k), rb.Owner(k)
				if oa != ob || !slices.Contains(ra.Members(), oa) {
					t.Fatalf("Owner(%q) = %q and %q, want one member", k, oa, ob)
				}
			}
		})
	}
}

func TestSingleMemberOwnsAll(t *testing.T) {
	r := NewRing([]string{"only"})
	for _, k := range uuids(100, 2) {
		if got := r.Owner(k); got != "only" {
			t.Fatalf("Owner(%q) = %q, want only", k, got)
		}
	}
}

func TestMovement(t *testing.T) {
	keys := uuids(30000, 3)
	three := owners(NewRing([]string{"a", "b", "c"}), keys)
	tests := []struct {
		name    string
		members []string
		// from, when set, is the only member keys may move from; to, when set, the only
		// member they may move to.
		from, to string
		// share is the expected share of keys that move (within ±0.02).
		share float64
	}{
		{name: "remove c", members: []string{"a", "b"}, from: "c", share: share(three, "c")},
		{name: "remove a", members: []string{"b", "c"}, from: "a", share: share(three, "a")},
		{name: "add d", members: []string{"a", "b", "c", "d"}, to: "d", share: 0.25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := owners(NewRing(tt.members), keys)
			moved := 0
			for _, k := range keys {
				if three[k] != after[k] {
					moved++
					checkMove(t, k, three[k], after[k], tt.from, tt.to)
				}
			}
			if got := float64(moved) / float64(len(keys)); got < tt.share-0.02 || got > tt.share+0.02 {
				t.Errorf("%.3f of the keys moved, want %.3f±0.02", got, tt.share)
			}
		})
	}
}

// checkMove fails t when key moved other than from `from` (if set) to `to` (if set).
func checkMove(t *testing.T, key, before, after, from, to string) {
	t.Helper()
	if from != "" && before != from {
		t.Fatalf("key %q moved from %q to %q, but only %q's keys may move", key, before, after, from)
	}
	if to != "" && after != to {
		t.Fatalf("key %q moved from %q to %q, but keys may move only to %q", key, before, after, to)
	}
}

// share returns the share of the keys in owner that member owns.
func share(owner map[string]string, member string) float64 {
	n := 0
	for _, o := range owner {
		if o == member {
			n++
		}
	}
	return float64(n) / float64(len(owner))
}

func TestEvenness(t *testing.T) {
	keys := uuids(30000, 4)
	tests := []struct {
		name    string
		members []string
	}{
		{"three replicas", []string{"ordersaga-manager-6d5f7c9b8-abcde", "ordersaga-manager-6d5f7c9b8-fghij", "ordersaga-manager-6d5f7c9b8-klmno"}},
		{"names differing in the last byte", []string{"m-0", "m-1", "m-2"}},
		{"five replicas", []string{"a", "b", "c", "d", "e"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			count := map[string]int{}
			r := NewRing(tt.members)
			for _, k := range keys {
				count[r.Owner(k)]++
			}
			want := float64(len(keys)) / float64(len(tt.members))
			for _, m := range tt.members {
				if got := float64(count[m]); got < want*0.95 || got > want*1.05 {
					t.Errorf("%s owns %.0f keys, want %.0f±5%%: %v", m, got, want, count)
				}
			}
		})
	}
}

func BenchmarkOwner(b *testing.B) {
	r := NewRing([]string{"manager-0", "manager-1", "manager-2"})
	key := "9f1c2b7e-4d3a-4c5b-8e6f-0a1b2c3d4e5f"
	for b.Loop() {
		r.Owner(key)
	}
}
