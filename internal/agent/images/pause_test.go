package images

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPauseRuns executes the hand-assembled program: it must stay alive
// (blocked in pause), ignore SIGCHLD and SIGTERM, and die to SIGKILL.
func TestPauseRuns(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the pause program is x86-64 only")
	}
	bin, err := PauseBinary()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pause")
	if err := os.WriteFile(path, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path)
	if err := cmd.Start(); err != nil {
		t.Fatalf("exec pause: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	sigIgn := func() (uint64, bool) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/status")
		if err != nil {
			return 0, false
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "SigIgn:"); ok {
				n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
				return n, err == nil
			}
		}
		return 0, false
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if m, ok := sigIgn(); ok && m&(1<<(17-1)) != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("pause never ignored SIGCHLD")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("pause exited: %v", err)
	default:
	}
	_ = cmd.Process.Kill()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("after SIGKILL: %v", err)
	}
}

func TestImagesAreReproducible(t *testing.T) {
	a, err := PauseImage()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := PauseImage()
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Fatalf("pause image digests differ: %s vs %s", da, db)
	}
	cf, _ := a.ConfigFile()
	if cf.OS != "linux" || cf.Config.Entrypoint[0] != "/pause" {
		t.Fatalf("config %+v", cf)
	}
}
