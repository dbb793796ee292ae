package bench

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestMembersSettled(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	lease := func(created, renewed time.Duration) coordinationv1.Lease {
		l := coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(t0.Add(created))}}
		l.Spec.HolderIdentity = new("replica")
		l.Spec.RenewTime = new(metav1.NewMicroTime(t0.Add(renewed)))
		return l
	}
	cases := []struct {
		name   string
		leases []coordinationv1.Lease
		n      int
		want   bool
	}{
		{"all renewed a second after the last create", []coordinationv1.Lease{lease(0, 3*time.Second), lease(2*time.Second, 3*time.Second)}, 2, true},
		{"a Lease missing", []coordinationv1.Lease{lease(0, 5*time.Second), lease(time.Second, 5*time.Second)}, 3, false},
		{"the first replica has not listed since the second joined", []coordinationv1.Lease{lease(0, 2*time.Second), lease(2*time.Second, 4*time.Second)}, 2, false},
		{"renewed within the creation's second", []coordinationv1.Lease{lease(0, 2500*time.Millisecond), lease(2*time.Second, 3*time.Second)}, 2, false},
		{"no Leases", nil, 2, false},
	}
	for _, c := range cases {
		if got, state := membersSettled(c.leases, c.n); got != c.want {
			t.Errorf("%s: got %v (%s), want %v", c.name, got, state, c.want)
		}
	}
	noHolder := lease(0, 5*time.Second)
	noHolder.Spec.HolderIdentity = nil
	if ok, _ := membersSettled([]coordinationv1.Lease{noHolder}, 1); ok {
		t.Error("a Lease without a holder counts as no member")
	}
}
