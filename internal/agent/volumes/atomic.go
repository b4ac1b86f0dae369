package volumes

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File is one file of an API-backed volume.
type File struct {
	Data []byte
	Mode fs.FileMode
}

const dataLink = "..data"

// writeAtomic makes dir hold exactly files (relative paths), the way the
// kubelet's atomic writer does: the payload goes into a fresh
// "..<timestamp>" directory, the "..data" symlink is swapped to it with a
// rename, and each top-level entry is a symlink through "..data". Readers
// inside containers therefore see the old or the new set, never a mix. It
// reports whether anything changed.
func writeAtomic(dir string, files map[string]File) (bool, error) {
	for p := range files {
		if err := validPath(p); err != nil {
			return false, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	old, _ := os.Readlink(filepath.Join(dir, dataLink))
	if old != "" && same(filepath.Join(dir, old), files) {
		return false, nil
	}
	ts, err := os.MkdirTemp(dir, ".."+time.Now().UTC().Format("2006_01_02_15_04_05.")+"")
	if err != nil {
		return false, err
	}
	if err := os.Chmod(ts, 0o755); err != nil {
		return false, err
	}
	for p, f := range files {
		full := filepath.Join(ts, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return false, err
		}
		if err := os.WriteFile(full, f.Data, f.Mode); err != nil {
			return false, err
		}
		// WriteFile's mode is masked by the umask; the API's is exact.
		if err := os.Chmod(full, f.Mode); err != nil {
			return false, err
		}
	}
	tmp := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, dataLink)); err != nil {
		return false, err
	}
	if err := linkTopLevel(dir, files); err != nil {
		return false, err
	}
	if old != "" && old != filepath.Base(ts) {
		_ = os.RemoveAll(filepath.Join(dir, old))
	}
	return true, nil
}

// linkTopLevel points each top-level name at ..data and removes names
// that are no longer in the payload.
func linkTopLevel(dir string, files map[string]File) error {
	want := map[string]bool{}
	for p := range files {
		top, _, _ := strings.Cut(p, "/")
		want[top] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "..") || want[e.Name()] {
			continue
		}
		_ = os.RemoveAll(filepath.Join(dir, e.Name()))
	}
	for top := range want {
		link := filepath.Join(dir, top)
		target := filepath.Join(dataLink, top)
		if cur, err := os.Readlink(link); err == nil && cur == target {
			continue
		}
		_ = os.RemoveAll(link)
		if err := os.Symlink(target, link); err != nil {
			return err
		}
	}
	return nil
}

// same reports whether the payload directory holds exactly files.
func same(dir string, files map[string]File) bool {
	n := 0
	ok := true
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		f, found := files[rel]
		if !found {
			ok = false
			return filepath.SkipAll
		}
		info, err := d.Info()
		if err != nil || info.Mode().Perm() != f.Mode.Perm() {
			ok = false
			return filepath.SkipAll
		}
		b, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(b, f.Data) {
			ok = false
			return filepath.SkipAll
		}
		n++
		return nil
	})
	return err == nil && ok && n == len(files)
}

// validPath refuses what could escape the volume or clash with the
// writer's own names, as the API's validation does.
func validPath(p string) error {
	if p == "" || filepath.IsAbs(p) || strings.HasPrefix(p, "..") || slices.Contains(strings.Split(p, "/"), "..") {
		return fmt.Errorf("invalid path %q in volume", p)
	}
	return nil
}
