// Package gopool runs functions on reused goroutines.
//
// A goroutine starts with a small stack that grows by copying as calls
// deepen. An API request or a binding reaches tens of KiB deep through
// encoding, validation and etcd, so a fresh goroutine for each pays for
// several copies, every time: profiles of the scheduler benchmark showed
// 2-3% of the server's CPU in stack growth. A reused goroutine keeps its
// grown stack, until the garbage collector shrinks it after it has been idle.
package gopool

import "time"

// Pool hands functions to idle workers, starting a new worker whenever
// none is idle, so it never queues work or limits concurrency. A worker
// idle for longer than the pool's idle time exits. The zero Pool is not
// usable; call New.
type Pool struct {
	work chan func()
	idle time.Duration
}

// New returns a pool whose workers exit after idle time without work.
func New(idle time.Duration) *Pool {
	return &Pool{work: make(chan func()), idle: idle}
}

// Go runs f on an idle worker, or on a new one. Like a go statement, it
// does not wait for f, and a panic in f that f does not recover ends the
// program.
func (p *Pool) Go(f func()) {
	select {
	case p.work <- f:
	default:
		go p.worker(f)
	}
}

func (p *Pool) worker(f func()) {
	t := time.NewTimer(p.idle)
	defer t.Stop()
	for {
		f()
		f = nil // let f's captures be collected while idle
		t.Reset(p.idle)
		select {
		case f = <-p.work:
		case <-t.C:
			return
		}
	}
}
