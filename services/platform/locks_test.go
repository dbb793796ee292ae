package platform

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestDocLocksExcludeOneDocument checks that callers locking one document never overlap.
func TestDocLocksExcludeOneDocument(t *testing.T) {
	var l DocLocks
	var inside, overlaps atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for range 100 {
				unlock := l.Lock("order-1")
				if inside.Add(1) != 1 {
					overlaps.Add(1)
				}
				inside.Add(-1)
				unlock()
			}
		})
	}
	wg.Wait()
	if n := overlaps.Load(); n != 0 {
		t.Errorf("%d critical sections of one document overlapped, want none", n)
	}
}

// TestDocLocksNeverDeadlock locks several documents, given in opposite orders and with
// repeats (the same ID twice, IDs of one stripe), from many goroutines at once.
func TestDocLocksNeverDeadlock(t *testing.T) {
	var l DocLocks
	a, b := "product/A", otherStripe(t, &l, "product/A")
	c := sameStripe(t, &l, a)
	orders := [][]string{{a, b}, {b, a}, {a, a}, {a, c}, {c, b, a}, {b}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() {
				for range 200 {
					l.Lock(orders[i%len(orders)]...)()
				}
			})
		}
		wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("lockers still waiting after 30 s: deadlock")
	}
}

// TestDocLocksLetOtherStripesThrough checks that a held lock blocks its own stripe only.
func TestDocLocksLetOtherStripesThrough(t *testing.T) {
	var l DocLocks
	b := otherStripe(t, &l, "a")
	unlock := l.Lock("a")
	other := make(chan struct{})
	go func() {
		l.Lock(b)()
		close(other)
	}()
	select {
	case <-other:
	case <-time.After(10 * time.Second):
		t.Fatal("a document of another stripe waited for the held lock")
	}
	same := make(chan struct{})
	go func() {
		l.Lock("a")()
		close(same)
	}()
	select {
	case <-same:
		t.Fatal("the same document was locked twice at once")
	case <-time.After(50 * time.Millisecond):
	}
	unlock()
	<-same
}

// otherStripe returns an ID whose stripe differs from id's.
func otherStripe(t *testing.T, l *DocLocks, id string) string {
	t.Helper()
	return findID(t, func(s string) bool { return l.stripe(s) != l.stripe(id) })
}

// sameStripe returns another ID of id's stripe.
func sameStripe(t *testing.T, l *DocLocks, id string) string {
	t.Helper()
	return findID(t, func(s string) bool { return s != id && l.stripe(s) == l.stripe(id) })
}

func findID(t *testing.T, ok func(string) bool) string {
	t.Helper()
	for i := range 10_000 {
		if s := fmt.Sprintf("doc-%d", i); ok(s) {
			return s
		}
	}
	t.Fatal("no such ID among 10000")
	return ""
}
