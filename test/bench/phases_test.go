package bench

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

func TestPhasesSplitTheLatency(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	at := func(ms int) *metav1.MicroTime {
		m := metav1.NewMicroTime(t0.Add(time.Duration(ms) * time.Millisecond))
		return &m
	}
	var p phaseSamples
	p.add(t0, ending{at: t0.Add(100 * time.Millisecond), status: v1.OrderSagaStatus{StartedAt: at(10), FinishedAt: at(70)}})
	p.add(t0, ending{at: t0.Add(time.Second)}) // no timestamps: left out, not counted as zero
	got := p.summarize()
	if got.ToStart.N != 1 || got.ToStart.P50 != 10*time.Millisecond || got.Run.P50 != 60*time.Millisecond || got.ToSeen.P50 != 30*time.Millisecond {
		t.Errorf("phases = %+v, want one saga: 10ms to start, 60ms run, 30ms to be seen", got)
	}
}
