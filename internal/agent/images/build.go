package images

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"runtime"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// BusyboxRef is the name `navarch images busybox` gives its image, so that
// `--image=busybox` finds it.
const BusyboxRef = "docker.io/library/busybox:latest"

// defaultPath is the PATH of upstream's busybox image.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// file is one entry of a single-layer root filesystem.
type file struct {
	name string // relative, no leading slash
	mode int64
	typ  byte
	data []byte
	link string
}

// PauseImage is the sandbox image: the pause program as its entrypoint.
func PauseImage() (v1.Image, error) {
	bin, err := PauseBinary()
	if err != nil {
		return nil, err
	}
	return imageOf([]file{{name: "pause", mode: 0o755, typ: tar.TypeReg, data: bin}}, v1.Config{Entrypoint: []string{"/pause"}})
}

// BusyboxImage builds a busybox image from a static busybox binary (e.g.
// Debian's busybox-static at /bin/busybox): the binary, one symlink per
// applet, and the few files images usually carry (passwd, group, tmp).
// Cmd is "sh", as in upstream's image.
func BusyboxImage(binary string) (v1.Image, error) {
	data, err := os.ReadFile(binary)
	if err != nil {
		return nil, fmt.Errorf("read busybox: %w", err)
	}
	out, err := exec.Command(binary, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list-full (is it busybox?): %w", binary, err)
	}
	files := []file{
		{name: "bin/busybox", mode: 0o755, typ: tar.TypeReg, data: data},
		{name: "tmp", mode: 0o1777, typ: tar.TypeDir},
		{name: "root", mode: 0o700, typ: tar.TypeDir},
		{name: "etc/passwd", mode: 0o644, typ: tar.TypeReg, data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n")},
		{name: "etc/group", mode: 0o644, typ: tar.TypeReg, data: []byte("root:x:0:\nnobody:x:65534:\n")},
		{name: "home", mode: 0o755, typ: tar.TypeDir},
		{name: "var/www", mode: 0o755, typ: tar.TypeDir},
	}
	for _, applet := range strings.Fields(string(out)) {
		applet = strings.TrimPrefix(applet, "/")
		if applet == "bin/busybox" || applet == "" {
			continue
		}
		files = append(files, file{name: applet, mode: 0o777, typ: tar.TypeSymlink, link: "/bin/busybox"})
	}
	return imageOf(files, v1.Config{Cmd: []string{"sh"}, Env: []string{defaultPath}})
}

// imageOf packs files as one layer under cfg for linux on this
// architecture. Times are zero so that the same input always gives the
// same digest, which keeps re-imports no-ops.
func imageOf(files []file, cfg v1.Config) (v1.Image, error) {
	layerTar, err := tarOf(files)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Config = "linux", runtime.GOARCH, cfg
	return mutate.ConfigFile(img, cf)
}

// tarOf writes files with their parent directories, parents first.
func tarOf(files []file) ([]byte, error) {
	dirs := map[string]bool{}
	var all []file
	for _, f := range files {
		if f.typ == tar.TypeDir {
			dirs[f.name] = true
		}
	}
	for _, f := range files {
		for d := path.Dir(f.name); d != "."; d = path.Dir(d) {
			if !dirs[d] {
				dirs[d] = true
				all = append(all, file{name: d, mode: 0o755, typ: tar.TypeDir})
			}
		}
	}
	all = append(all, files...)
	slices.SortStableFunc(all, func(a, b file) int { return strings.Compare(a.name, b.name) })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range all {
		h := &tar.Header{Name: f.name, Mode: f.mode, Typeflag: f.typ, Linkname: f.link, Size: int64(len(f.data)), Format: tar.FormatPAX}
		if f.typ == tar.TypeDir {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteArchive writes images as one docker-save archive (what `docker
// save` and `ctr images import` use), each under its references.
func WriteArchive(w io.Writer, refs map[string]v1.Image) error {
	m := map[name.Reference]v1.Image{}
	for r, img := range refs {
		ref, err := name.NewTag(r)
		if err != nil {
			return fmt.Errorf("image name %q: %w", r, err)
		}
		m[ref] = img
	}
	return tarball.MultiRefWrite(m, w)
}

// WriteArchiveFile is WriteArchive into a new file at path.
func WriteArchiveFile(path string, refs map[string]v1.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteArchive(f, refs); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
