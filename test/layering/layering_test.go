// Package layering checks the import graph: each rule below is a boundary
// ARCHITECTURE.md promises, and the brief's list of modules navarch must
// not depend on.
package layering

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/navarch/navarch/"

// rules: packages under from (a path prefix) must not import anything
// under any of the forbidden prefixes.
var rules = []struct {
	from      string
	forbidden []string
}{
	{"internal/storage", []string{"internal/registry", "internal/apiserver", "internal/server", "internal/printers"}},
	{"internal/registry", []string{"internal/apiserver", "internal/server", "go.etcd.io/"}},
	{"internal/apiserver", []string{"internal/storage/", "internal/server", "go.etcd.io/"}},
	{"internal/printers", []string{"internal/registry", "internal/storage", "internal/apiserver"}},
	{"internal/pki", []string{"internal/registry", "internal/storage", "internal/apiserver"}},
	{"internal/auth", []string{"internal/registry", "internal/storage", "internal/apiserver"}},
	// Components beside the API reach it only through client-go.
	{"internal/controllers", []string{"internal/registry", "internal/storage", "internal/apiserver", "internal/server", "go.etcd.io/"}},
	{"internal/scheduler", []string{"internal/registry", "internal/storage", "internal/apiserver", "internal/server", "internal/controllers", "go.etcd.io/"}},
	{"internal/agent", []string{"internal/registry", "internal/storage", "internal/apiserver", "internal/server", "internal/controllers", "internal/scheduler", "go.etcd.io/"}},
	{"internal/hollow", []string{"internal/registry", "internal/storage", "internal/apiserver", "internal/server", "go.etcd.io/"}},
	{"internal/proxy", []string{"internal/registry", "internal/storage", "internal/apiserver", "internal/server", "go.etcd.io/"}},
	{"internal/dns", []string{"internal/registry", "internal/storage", "internal/apiserver", "internal/server", "go.etcd.io/"}},
	{"", []string{"k8s.io/kubernetes", "k8s.io/apiserver", "k8s.io/controller-manager", "k8s.io/component-base", "sigs.k8s.io/controller-runtime"}},
}

// allowed exceptions: the API server streams watch-cache events, so it
// may use the cache package's types (but not etcd or the storage layer).
var allowed = map[string]bool{module + "internal/storage/cache": true}

func TestImportBoundaries(t *testing.T) {
	root := moduleRoot(t)
	imports := collectImports(t, root)
	if len(imports) < 10 {
		t.Fatalf("found only %d packages under %s; the walk is broken", len(imports), root)
	}
	for pkg, imps := range imports {
		for _, r := range rules {
			if !strings.HasPrefix(pkg, r.from) {
				continue
			}
			for imp := range imps {
				for _, f := range r.forbidden {
					target := f
					if strings.HasPrefix(f, "internal/") {
						target = module + f
					}
					if strings.HasPrefix(imp, target) && !allowed[imp] {
						t.Errorf("%s imports %s, which the layering forbids (%s must not import %s)", pkg, imp, r.from, f)
					}
				}
			}
		}
	}
}

// TestTestutilOnlyInTests keeps test support out of the binary.
func TestTestutilOnlyInTests(t *testing.T) {
	for pkg, imps := range collectImports(t, moduleRoot(t)) {
		for imp := range imps {
			if strings.HasPrefix(imp, module+"internal/testutil") && !strings.HasPrefix(pkg, "internal/testutil") {
				t.Errorf("non-test code in %s imports %s", pkg, imp)
			}
		}
	}
}

// collectImports maps each package directory (relative to root) to the
// imports of its non-test Go files.
func collectImports(t *testing.T, root string) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != root) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		if out[rel] == nil {
			out[rel] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			out[rel][strings.Trim(imp.Path.Value, `"`)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate this test file")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	return root
}
