package containerd

import (
	"context"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/navarch/navarch/internal/agent/cri"
	"github.com/navarch/navarch/internal/agent/images"
)

func requireContainerd(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: starts containerd")
	}
	if os.Geteuid() != 0 {
		t.Skip("containerd needs root")
	}
	for _, b := range []string{"containerd", "runc", "ctr"} {
		if _, err := exec.LookPath(b); err != nil {
			if _, err := os.Stat("/usr/sbin/" + b); err != nil {
				t.Skipf("%s not installed (make deps installs it): %v", b, err)
			}
		}
	}
}

// TestSuperviseRestartStop starts containerd, imports the pause image,
// kills containerd and expects it back, then stops it.
func TestSuperviseRestartStop(t *testing.T) {
	requireContainerd(t)
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("NAVARCH_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	cfg := Config{Dir: dir + "/c", SandboxImage: images.PauseRef, CNIBinDir: "/usr/lib/cni", CNIConfDir: dir + "/net.d",
		Mirrors: map[string]string{"127.0.0.1:5000": "http://127.0.0.1:5000"}}
	start := time.Now()
	s, err := Start(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			s.Stop()
		}
	}()
	t.Logf("containerd ready in %v", time.Since(start))
	img, err := images.PauseImage()
	if err != nil {
		t.Fatal(err)
	}
	if err := images.ImportImages(ctx, s.Socket(), dir, map[string]v1.Image{images.PauseRef: img}); err != nil {
		t.Fatal(err)
	}
	c, err := cri.Dial(s.Socket())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.Images.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: images.PauseRef}})
	if err != nil || st.Image == nil {
		t.Fatalf("pause image not visible through CRI: %v %v", st, err)
	}

	pid := s.Pid()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Restarted():
	case <-time.After(30 * time.Second):
		t.Fatal("containerd was not restarted")
	}
	if s.Pid() == pid || s.Pid() == 0 {
		t.Fatalf("pid after restart = %d (was %d)", s.Pid(), pid)
	}
	if _, err := c.WaitReady(ctx, 10*time.Second); err != nil {
		t.Fatalf("CRI after restart: %v", err)
	}
	newPid := s.Pid()
	s.Stop()
	stopped = true
	if syscall.Kill(newPid, 0) == nil {
		t.Fatalf("containerd %d still running after Stop", newPid)
	}
}
