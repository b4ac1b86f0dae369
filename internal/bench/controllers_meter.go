package bench

import (
	"fmt"
	"io"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// meter samples CPU and memory over one phase: this process's (the
// controller manager's) and the server child's.
type meter struct {
	srv               *child
	start             time.Time
	elapsed           time.Duration
	selfCPU0, srvCPU0 time.Duration
	selfCPU, srvCPU   time.Duration
	mu                sync.Mutex
	peakHeap, peakRSS uint64
	peakSrvRSS        uint64
	lastSample        time.Time
	samples           []metrics.Sample
}

// measurePhase runs act, then wait (which calls m.sample as it polls), and
// returns what the phase cost.
func measurePhase(srv *child, act func() error, wait func(*meter) error) (*meter, error) {
	m := &meter{srv: srv, samples: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}}
	m.selfCPU0, m.srvCPU0 = selfCPU(), procCPU(srv.cmd.Process.Pid)
	m.start = time.Now()
	m.sample()
	if err := act(); err != nil {
		return nil, err
	}
	if err := wait(m); err != nil {
		return nil, err
	}
	m.elapsed = time.Since(m.start)
	m.selfCPU, m.srvCPU = selfCPU()-m.selfCPU0, procCPU(srv.cmd.Process.Pid)-m.srvCPU0
	m.sample()
	return m, nil
}

// sample records memory peaks, at most every 100ms.
func (m *meter) sample() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if time.Since(m.lastSample) < 100*time.Millisecond {
		return
	}
	m.lastSample = time.Now()
	metrics.Read(m.samples)
	if v := m.samples[0].Value; v.Kind() == metrics.KindUint64 {
		m.peakHeap = max(m.peakHeap, v.Uint64())
	}
	m.peakRSS = max(m.peakRSS, rss(os.Getpid()))
	m.peakSrvRSS = max(m.peakSrvRSS, rss(m.srv.cmd.Process.Pid))
}

func (m *meter) report(w io.Writer, what string) {
	cores := func(cpu time.Duration) float64 { return cpu.Seconds() / m.elapsed.Seconds() }
	fmt.Fprintf(w, "%s: %.2f s\n", what, m.elapsed.Seconds())
	fmt.Fprintf(w, "  controller manager: %.2f CPU-s (%.2f cores avg), peak heap %.0f MiB, peak RSS %.0f MiB\n",
		m.selfCPU.Seconds(), cores(m.selfCPU), mib(m.peakHeap), mib(m.peakRSS))
	fmt.Fprintf(w, "  server (API, etcd, scheduler): %.2f CPU-s (%.2f cores avg), peak RSS %.0f MiB\n",
		m.srvCPU.Seconds(), cores(m.srvCPU), mib(m.peakSrvRSS))
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU reads utime+stime of pid from /proc (in clock ticks of 1/100 s,
// USER_HZ on Linux).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func rss(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}
