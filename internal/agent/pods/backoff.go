package pods

import "time"

// Crash-loop back-off, as upstream: the first restart is immediate, then
// 10 s, doubling up to 5 minutes; a container that ran for longer than
// twice the maximum starts over.
const (
	crashInitial = 10 * time.Second
	crashMax     = 300 * time.Second
)

type crashBackoff struct {
	delay      time.Duration
	lastUpdate time.Time
}

// crashBackoff decides whether a container that exited at finished may be
// restarted now. It returns how long to wait (0: restart now) and the
// current delay, for the message.
func (w *worker) crashBackoff(name string, finished time.Time) (wait, delay time.Duration) {
	return crashBackoffAt(w.backoff, name, finished, time.Now())
}

func crashBackoffAt(table map[string]*crashBackoff, name string, finished, now time.Time) (time.Duration, time.Duration) {
	e, ok := table[name]
	if ok && finished.Sub(e.lastUpdate) <= 2*crashMax {
		if left := e.delay - now.Sub(finished); left > 0 {
			return left, e.delay
		}
		e.delay = min(2*e.delay, crashMax)
		e.lastUpdate = now
		return 0, e.delay
	}
	table[name] = &crashBackoff{delay: crashInitial, lastUpdate: now}
	return 0, crashInitial
}
