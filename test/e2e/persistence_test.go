package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPersistence runs a private server, fills it, restarts it on the same
// data dir and port, and checks that everything survived.
func TestPersistence(t *testing.T) {
	requireServer(t)
	t.Parallel()
	dir := t.TempDir()
	first, err := startServer(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = first.stop()
		}
	})
	kubectlOn(t, first, "", "create", "namespace", "e2e-persist")
	kubectlOn(t, first, appManifest, "-n", "e2e-persist", "apply", "-f", "-")
	kubectlOn(t, first, "", "-n", "e2e-persist", "scale", "deployment", "web", "--replicas=3")

	const snapshot = `{range .items[*]}{.kind}/{.metadata.name} {.metadata.uid} {.metadata.resourceVersion} {.metadata.generation}{"\n"}{end}`
	objects := "deployments,services,configmaps,secrets"
	before := kubectlOn(t, first, "", "-n", "e2e-persist", "get", objects, "-o", "jsonpath="+snapshot)
	svcBefore := kubectlOn(t, first, "", "-n", "e2e-persist", "get", "svc", "web", "-o", "jsonpath={.spec.clusterIP} {.spec.ports[0].nodePort}")
	caBefore := readFile(t, filepath.Join(dir, "data", "kubeconfig.yaml"))

	if err := first.stop(); err != nil {
		first.dumpLog(os.Stderr)
		t.Fatalf("SIGTERM: %v", err)
	}
	stopped = true
	second, err := startServerOn(first.dataDir, first.port)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	t.Cleanup(func() {
		if err := second.stop(); err != nil {
			t.Errorf("restarted server did not stop cleanly: %v", err)
		}
	})

	if got := kubectlOn(t, second, "", "-n", "e2e-persist", "get", objects, "-o", "jsonpath="+snapshot); got != before {
		t.Errorf("objects after restart:\n%s\nbefore:\n%s", got, before)
	}
	if got := kubectlOn(t, second, "", "-n", "e2e-persist", "get", "svc", "web", "-o", "jsonpath={.spec.clusterIP} {.spec.ports[0].nodePort}"); got != svcBefore {
		t.Errorf("service allocation after restart: %q, want %q", got, svcBefore)
	}
	checks := []struct{ obj, path, want string }{
		{"deployment/web", "{.spec.replicas}", "3"},
		{"configmap/cfg", "{.data.greeting}", "hello"},
		{"secret/sec", "{.data.password}", "aHVudGVyMg=="},
	}
	for _, c := range checks {
		if got := kubectlOn(t, second, "", "-n", "e2e-persist", "get", c.obj, "-o", "jsonpath="+c.path); got != c.want {
			t.Errorf("%s %s after restart = %q, want %q", c.obj, c.path, got, c.want)
		}
	}
	// The CA and admin credentials are reused, not regenerated.
	if got := readFile(t, second.kubeconfig); got != caBefore {
		t.Errorf("kubeconfig changed across restart")
	}
	// The allocator remembers what is taken: a new Service gets other values.
	kubectlOn(t, second, "", "-n", "e2e-persist", "create", "service", "nodeport", "fresh", "--tcp=80:80")
	fresh := kubectlOn(t, second, "", "-n", "e2e-persist", "get", "svc", "fresh", "-o", "jsonpath={.spec.clusterIP} {.spec.ports[0].nodePort}")
	old := strings.Fields(svcBefore)
	if f := strings.Fields(fresh); len(f) != 2 || f[0] == old[0] || f[1] == old[1] || f[0] == "10.96.0.1" {
		t.Errorf("new service after restart got %q; taken: %q and 10.96.0.1", fresh, svcBefore)
	}
	if got := kubectlOn(t, second, "", "-n", "default", "get", "svc", "-o", "name"); got != "service/kubernetes\n" {
		t.Errorf("default services after restart: %q", got)
	}
	// Writes keep working and resourceVersions keep growing.
	rvOf := func(srv *server) int {
		rv := kubectlOn(t, srv, "", "-n", "e2e-persist", "get", "configmap", "cfg", "-o", "jsonpath={.metadata.resourceVersion}")
		n, err := strconv.Atoi(rv)
		if err != nil {
			t.Fatalf("resourceVersion %q: %v", rv, err)
		}
		return n
	}
	rv := rvOf(second)
	kubectlOn(t, second, "", "-n", "e2e-persist", "label", "configmap", "cfg", "after=restart")
	if after := rvOf(second); after <= rv {
		t.Errorf("resourceVersion went from %d to %d after a write", rv, after)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}
