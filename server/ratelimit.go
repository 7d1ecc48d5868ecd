package server

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Failed authentications an address may make in a burst, and how fast it
// earns more.
const (
	failureBurst = 10
	failureEvery = time.Second
	// failureAddrs bounds how many addresses are tracked at once.
	failureAddrs = 10000
)

// failureLimiter slows down addresses that keep failing to authenticate.
// Only failures spend tokens, so a busy client that authenticates is never
// slowed.
type failureLimiter struct {
	mu     sync.Mutex
	byAddr map[string]*rate.Limiter
}

func newFailureLimiter() *failureLimiter {
	return &failureLimiter{byAddr: map[string]*rate.Limiter{}}
}

// wait returns how long addr must wait before it may try again; 0 if it may
// try now.
func (f *failureLimiter) wait(addr string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.byAddr[addr]
	if l == nil || l.Tokens() >= 1 {
		return 0
	}
	return time.Duration((1 - l.Tokens()) * float64(failureEvery))
}

// failed records a failed authentication from addr.
func (f *failureLimiter) failed(addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.byAddr[addr]
	if l == nil {
		if len(f.byAddr) >= failureAddrs {
			f.forgetRecovered()
		}
		l = rate.NewLimiter(rate.Every(failureEvery), failureBurst)
		f.byAddr[addr] = l
	}
	l.Allow()
}

// forgetRecovered drops addresses whose budget is whole again.
func (f *failureLimiter) forgetRecovered() {
	for addr, l := range f.byAddr {
		if l.Tokens() >= failureBurst {
			delete(f.byAddr, addr)
		}
	}
}
