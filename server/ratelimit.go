package server

import (
	"net"
	"sync"
	"time"
)

// Failed checks a credential may make in a burst, and how fast it earns
// more: per API key, and per source network.
const (
	failureBurst = 10
	failureEvery = time.Second
	// failureBuckets bounds how many keys and networks are tracked at once.
	failureBuckets = 10000
)

// failureLimiter throttles failing secrets. Before an API key's secret is
// checked (and only when it was not verified before), a token is taken
// from the key's bucket and from its source network's, both or neither;
// a check that passes gives them back. So only failures spend the budget,
// and a request without credentials, or with credentials verified before,
// never reaches the limiter.
type failureLimiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	now     func() time.Time
}

// bucket is a token bucket: tokens at the instant at.
type bucket struct {
	tokens float64
	at     time.Time
}

func newFailureLimiter() *failureLimiter {
	return &failureLimiter{buckets: map[string]*bucket{}, now: time.Now}
}

// reserve takes a token from each named bucket, or from none, and says how
// long to wait when one is empty. release gives the tokens back unless the
// check failed.
func (f *failureLimiter) reserve(names ...string) (release func(passed bool), wait time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if len(f.buckets)+len(names) > failureBuckets {
		f.forgetRecovered(now)
	}
	taken := make([]*bucket, len(names))
	for i, name := range names {
		b := f.buckets[name]
		if b == nil {
			b = &bucket{tokens: failureBurst, at: now} // tracked once a token is taken
		}
		b.refill(now)
		if b.tokens < 1 {
			wait = max(wait, time.Duration((1-b.tokens)*float64(failureEvery)))
		}
		taken[i] = b
	}
	if wait > 0 {
		return nil, wait // nothing new is tracked: a throttled caller cannot crowd others out
	}
	for i, b := range taken {
		b.tokens--
		f.buckets[names[i]] = b
	}
	return func(passed bool) {
		if !passed {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, b := range taken {
			b.tokens = min(b.tokens+1, failureBurst)
		}
	}, 0
}

func (b *bucket) refill(now time.Time) {
	b.tokens = min(failureBurst, b.tokens+now.Sub(b.at).Seconds()/failureEvery.Seconds())
	b.at = now
}

// forgetRecovered drops buckets that are whole again; if every bucket is
// still spending, it starts afresh rather than grow without bound.
func (f *failureLimiter) forgetRecovered(now time.Time) {
	for name, b := range f.buckets {
		if b.refill(now); b.tokens >= failureBurst {
			delete(f.buckets, name)
		}
	}
	if len(f.buckets) >= failureBuckets {
		clear(f.buckets)
	}
}

// sourceNetwork is the network a client address is throttled as: the IPv4
// address, or the IPv6 /64 (one host can use a whole /64).
func sourceNetwork(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() != nil {
		return "net:" + addr
	}
	return "net:" + ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
