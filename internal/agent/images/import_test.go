package images_test

import (
	"archive/tar"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/navarch/navarch/internal/agent/containerd"
	"github.com/navarch/navarch/internal/agent/cri"
	"github.com/navarch/navarch/internal/agent/images"
)

// TestImportArchives loads a docker-save and an OCI archive into a real
// containerd and finds both images through CRI.
func TestImportArchives(t *testing.T) {
	if testing.Short() || os.Geteuid() != 0 {
		t.Skip("integration test: needs root and containerd")
	}
	for _, b := range []string{"containerd", "ctr"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed (make deps)", b)
		}
	}
	dir := t.TempDir()
	sup, err := containerd.Start(context.Background(), containerd.Config{Dir: filepath.Join(dir, "c"), SandboxImage: images.PauseRef,
		CNIBinDir: "/usr/lib/cni", CNIConfDir: filepath.Join(dir, "net.d")}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Stop()
	img, err := images.PauseImage()
	if err != nil {
		t.Fatal(err)
	}
	docker := filepath.Join(dir, "docker.tar")
	if err := images.WriteArchiveFile(docker, map[string]v1.Image{"example.com/docker-save:v1": img}); err != nil {
		t.Fatal(err)
	}
	oci := filepath.Join(dir, "oci.tar")
	writeOCI(t, oci, img, "example.com/oci:v1")
	for _, a := range []string{docker, oci} {
		if err := images.Import(context.Background(), sup.Socket(), a); err != nil {
			t.Fatalf("import %s: %v", a, err)
		}
	}
	rt, err := cri.Dial(sup.Socket())
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	for _, ref := range []string{"example.com/docker-save:v1", "example.com/oci:v1"} {
		st, err := rt.Images.ImageStatus(context.Background(), &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
		if err != nil || st.Image == nil {
			t.Errorf("%s not visible through CRI after import: %v", ref, err)
		}
	}
	if err := images.Import(context.Background(), sup.Socket(), filepath.Join(dir, "missing.tar")); err == nil {
		t.Error("importing a missing file succeeded")
	}
}

// writeOCI writes img as an OCI image layout tarball named ref.
func writeOCI(t *testing.T, path string, img v1.Image, ref string) {
	t.Helper()
	dir := t.TempDir()
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img,
		Descriptor: v1.Descriptor{Annotations: map[string]string{"org.opencontainers.image.ref.name": ref}}})
	if _, err := layout.Write(dir, idx); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	defer tw.Close()
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, _ := d.Info()
		h, _ := tar.FileInfoHeader(info, "")
		h.Name = rel
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
