package volumes

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			return "<" + err.Error() + ">"
		}
		return string(b)
	}
	steps := []struct {
		name    string
		files   map[string]File
		changed bool
		want    map[string]string // path -> content ("" = absent)
	}{
		{"first", map[string]File{"a": {Data: []byte("1"), Mode: 0o644}, "sub/b": {Data: []byte("2"), Mode: 0o600}}, true,
			map[string]string{"a": "1", "sub/b": "2"}},
		{"unchanged", map[string]File{"a": {Data: []byte("1"), Mode: 0o644}, "sub/b": {Data: []byte("2"), Mode: 0o600}}, false,
			map[string]string{"a": "1"}},
		{"update and drop", map[string]File{"a": {Data: []byte("new"), Mode: 0o644}}, true,
			map[string]string{"a": "new", "sub/b": ""}},
		{"mode change", map[string]File{"a": {Data: []byte("new"), Mode: 0o400}}, true,
			map[string]string{"a": "new"}},
		{"empty", map[string]File{}, true, map[string]string{"a": ""}},
	}
	for _, s := range steps {
		changed, err := writeAtomic(dir, s.files)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if changed != s.changed {
			t.Errorf("%s: changed = %v, want %v", s.name, changed, s.changed)
		}
		for p, want := range s.want {
			got := read(p)
			if want == "" {
				if _, err := os.Lstat(filepath.Join(dir, p)); err == nil {
					t.Errorf("%s: %s still exists (%q)", s.name, p, got)
				}
				continue
			}
			if got != want {
				t.Errorf("%s: %s = %q, want %q", s.name, p, got, want)
			}
		}
		// Exactly one payload directory remains behind ..data.
		entries, _ := os.ReadDir(dir)
		payloads := 0
		for _, e := range entries {
			if e.IsDir() && len(e.Name()) > 2 && e.Name()[:2] == ".." {
				payloads++
			}
		}
		if payloads != 1 {
			t.Errorf("%s: %d payload directories", s.name, payloads)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "a")); err == nil {
		t.Errorf("a should be gone, has mode %v", fi.Mode())
	}
}

func TestWriteAtomicRejectsEscapes(t *testing.T) {
	for _, p := range []string{"../x", "/etc/passwd", "a/../../b", "..data"} {
		if _, err := writeAtomic(t.TempDir(), map[string]File{p: {Data: []byte("x"), Mode: 0o644}}); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
}
