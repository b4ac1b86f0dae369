package containerd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Supervisor keeps one containerd running until Stop.
type Supervisor struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd has exited
	stopping bool
	restarts chan struct{}
	done     chan struct{} // closed when the supervision loop ends
}

const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 3 * time.Second
	// restartBackoff bounds how fast a crash-looping containerd is
	// restarted; it resets once containerd stayed up for stableAfter.
	minBackoff, maxBackoff = 500 * time.Millisecond, 10 * time.Second
	stableAfter            = time.Minute
	maxLogSize             = 10 << 20
)

// Start writes the configuration, starts containerd and returns once it
// answers CRI. containerd left behind by an agent that died is stopped
// first: it holds the same root and socket.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (*Supervisor, error) {
	if cfg.Binary == "" {
		cfg.Binary = "containerd"
	}
	bin, err := exec.LookPath(cfg.Binary)
	if err != nil {
		return nil, fmt.Errorf("containerd binary: %w (install the containerd package, or give --container-runtime-endpoint)", err)
	}
	cfg.Binary = bin
	if err := cfg.write(); err != nil {
		return nil, fmt.Errorf("containerd config: %w", err)
	}
	s := &Supervisor{cfg: cfg, log: log, restarts: make(chan struct{}, 1), done: make(chan struct{})}
	s.killStale()
	started := make(chan error, 1)
	go s.loop(ctx, started)
	if err := <-started; err != nil {
		<-s.done
		return nil, err
	}
	return s, nil
}

// Socket is the CRI endpoint.
func (s *Supervisor) Socket() string { return s.cfg.Socket() }

// Restarted is signalled each time containerd came back after dying, so
// that the agent reconciles its pods.
func (s *Supervisor) Restarted() <-chan struct{} { return s.restarts }

// Pid is containerd's current process id (0 while it is down).
func (s *Supervisor) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	select {
	case <-s.exited:
		return 0
	default:
		return s.cmd.Process.Pid
	}
}

// loop starts containerd and restarts it whenever it exits until Stop. It
// keeps its OS thread: containerd gets SIGTERM through Pdeathsig when the
// thread that started it dies, which must mean "the agent died", not "the
// Go runtime retired a thread".
func (s *Supervisor) loop(ctx context.Context, started chan<- error) {
	runtime.LockOSThread()
	defer close(s.done)
	err := s.startOnce(ctx)
	started <- err
	if err != nil {
		return
	}
	backoff := minBackoff
	for {
		upSince := time.Now()
		<-s.exited
		s.mu.Lock()
		stopping := s.stopping
		s.mu.Unlock()
		if stopping {
			return
		}
		s.log.Error("containerd exited; restarting", "err", s.cmd.ProcessState, "log", s.logPath())
		if time.Since(upSince) > stableAfter {
			backoff = minBackoff
		}
		for {
			time.Sleep(backoff)
			backoff = min(2*backoff, maxBackoff)
			s.mu.Lock()
			stopping = s.stopping
			s.mu.Unlock()
			if stopping {
				return
			}
			if err := s.startOnce(ctx); err != nil {
				s.log.Error("restart containerd", "err", err)
				continue
			}
			break
		}
		s.log.Info("containerd restarted", "pid", s.Pid())
		select {
		case s.restarts <- struct{}{}:
		default:
		}
	}
}

func (s *Supervisor) logPath() string { return filepath.Join(s.cfg.Dir, "containerd.log") }
func (s *Supervisor) pidPath() string { return filepath.Join(s.cfg.Dir, "containerd.pid") }

// startOnce starts one containerd process and waits until CRI answers.
func (s *Supervisor) startOnce(ctx context.Context) error {
	logf, err := openLog(s.logPath())
	if err != nil {
		return err
	}
	cmd := exec.Command(s.cfg.Binary, "--config", s.cfg.configPath())
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "PATH="+pathWithSbin())
	// Its own process group: a terminal's Ctrl-C reaches the agent, which
	// then stops containerd in order, not both at once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start containerd: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	_ = os.WriteFile(s.pidPath(), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600)
	if err := s.waitReady(ctx, exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%w (see %s)", err, s.logPath())
	}
	return nil
}

// waitReady polls CRI Version until containerd answers.
func (s *Supervisor) waitReady(ctx context.Context, exited <-chan struct{}) error {
	conn, err := grpc.NewClient("unix://"+s.Socket(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	rt := runtimeapi.NewRuntimeServiceClient(conn)
	deadline := time.Now().Add(readyTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("containerd exited during start-up")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if _, err := os.Stat(s.Socket()); err == nil {
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			_, last = rt.Version(cctx, &runtimeapi.VersionRequest{})
			cancel()
			if last == nil {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("containerd did not answer CRI within %s: %v", readyTimeout, last)
}

// Stop terminates containerd (SIGTERM, then SIGKILL after a few seconds)
// and ends supervision. Containers keep running in their shims, so that a
// restarted agent adopts them.
func (s *Supervisor) Stop() {
	s.mu.Lock()
	s.stopping = true
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	start := time.Now()
	defer func() { s.log.Debug("containerd stopped", "took", time.Since(start)) }()
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			s.log.Warn("containerd did not stop after SIGTERM; killing it")
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	<-s.done
	_ = os.Remove(s.pidPath())
}

// killStale stops a containerd of a previous agent on the same data dir.
// It checks that the pid is containerd running our config file, so a
// recycled pid is never touched.
func (s *Supervisor) killStale() {
	b, err := os.ReadFile(s.pidPath())
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || !strings.Contains(string(cmdline), s.cfg.configPath()) {
		return
	}
	s.log.Warn("stopping containerd left behind by a previous agent", "pid", pid)
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(stopTimeout)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	for end := time.Now().Add(stopTimeout); syscall.Kill(pid, 0) == nil && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
}

// openLog appends to the log, starting afresh once it grew large.
func openLog(path string) (io.WriteCloser, error) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxLogSize {
		_ = os.Rename(path, path+".1")
	}
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
}

// pathWithSbin makes sure runc (in /usr/sbin on Debian) and iptables are
// found even when the agent was started with a user's PATH.
func pathWithSbin() string {
	p := os.Getenv("PATH")
	for _, d := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin", "/bin"} {
		if !strings.Contains(":"+p+":", ":"+d+":") {
			p += ":" + d
		}
	}
	return strings.TrimPrefix(p, ":")
}
