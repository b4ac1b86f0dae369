package images

import (
	"bytes"
	"context"
	"fmt"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Namespace is the containerd namespace CRI keeps its images in.
const Namespace = "k8s.io"

// Import loads a docker-save or OCI archive into the containerd listening
// on socket, through containerd's own `ctr` (it knows both formats and
// unpacks the layers for the snapshotter). ctr is looked up in PATH, then
// beside containerd.
func Import(ctx context.Context, socket, archive string) error {
	ctr, err := ctrPath()
	if err != nil {
		return err
	}
	if _, err := os.Stat(archive); err != nil {
		return fmt.Errorf("image archive: %w", err)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, ctr, "-a", socket, "-n", Namespace, "images", "import", "--all-platforms", archive)
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ctr images import %s: %w: %s", archive, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// ImportImages writes refs to a temporary archive in dir and imports it.
func ImportImages(ctx context.Context, socket, dir string, refs map[string]v1.Image) error {
	f, err := os.CreateTemp(dir, "images-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := WriteArchive(f, refs); err != nil {
		f.Close()
		return fmt.Errorf("write image archive: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return Import(ctx, socket, f.Name())
}

func ctrPath() (string, error) {
	if p, err := exec.LookPath("ctr"); err == nil {
		return p, nil
	}
	if c, err := exec.LookPath("containerd"); err == nil {
		p := filepath.Join(filepath.Dir(c), "ctr")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("ctr not found in PATH (it comes with the containerd package)")
}

// EnsurePause imports the built-in sandbox image unless the runtime has
// it already. dir receives the temporary archive.
func EnsurePause(ctx context.Context, rt runtimeapi.ImageServiceClient, socket, dir string) error {
	if st, err := rt.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: PauseRef}}); err == nil && st.Image != nil {
		return nil
	}
	img, err := PauseImage()
	if err != nil {
		return err
	}
	return ImportImages(ctx, socket, dir, map[string]v1.Image{PauseRef: img})
}
