package server

import (
	"fmt"
	"testing"
	"time"
)

func TestFailureLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	f := newFailureLimiter()
	f.now = func() time.Time { return now }
	const network = "net:203.0.113.5"

	// Passing checks give their tokens back.
	for range 3 * failureBurst {
		release, wait := f.reserve("key:fbi/sentinel", network)
		if wait > 0 {
			t.Fatal("a passing key was throttled")
		}
		release(true)
	}
	// Failing ones spend them, per network whatever the key.
	for i := range failureBurst {
		release, wait := f.reserve(fmt.Sprintf("key:guess-%d", i), network)
		if wait > 0 {
			t.Fatalf("throttled after %d failures", i)
		}
		release(false)
	}
	tracked := len(f.buckets)
	for i := range 100 {
		if _, wait := f.reserve(fmt.Sprintf("key:spray-%d", i), network); wait <= 0 || wait > failureEvery {
			t.Fatalf("an exhausted network waits %v", wait)
		}
	}
	if len(f.buckets) != tracked {
		t.Fatalf("refused reservations tracked %d new buckets", len(f.buckets)-tracked)
	}
	// Another network is not slowed, and time restores the first.
	if _, wait := f.reserve("key:fbi/sentinel", "net:198.51.100.7"); wait > 0 {
		t.Fatal("another network was throttled")
	}
	now = now.Add(failureEvery)
	if _, wait := f.reserve("key:guess-x", network); wait > 0 {
		t.Fatal("a token was not earned back")
	}
}
