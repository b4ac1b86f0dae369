package printers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

const kubectlPath = "/usr/bin/kubectl"

// fakeAPIServer serves just enough discovery for kubectl to resolve "pods"
// and answers the pod list with a table built by ToTable.
func fakeAPIServer(t *testing.T, pods []runtime.Object) *httptest.Server {
	t.Helper()
	writeJSON := func(w http.ResponseWriter, body interface{}) {
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(body); err != nil {
			t.Errorf("encode: %v", err)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]interface{}{"kind": "APIVersions", "versions": []string{"v1"},
			"serverAddressByClientCIDRs": []interface{}{}})
	})
	mux.HandleFunc("/apis", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]interface{}{"kind": "APIGroupList", "apiVersion": "v1", "groups": []interface{}{}})
	})
	mux.HandleFunc("/api/v1", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]interface{}{"kind": "APIResourceList", "groupVersion": "v1", "resources": []interface{}{
			map[string]interface{}{"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod",
				"verbs": []string{"get", "list"}, "shortNames": []string{"po"}},
		}})
	})
	mux.HandleFunc("/api/v1/namespaces/default/pods", func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept"), "as=Table") {
			t.Errorf("kubectl did not ask for a table: Accept %q", r.Header.Get("Accept"))
		}
		table, err := ToTable(podsGR, pods, IncludeObject(r.URL.Query().Get("includeObject")), false, now)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		table.ResourceVersion = "42"
		writeJSON(w, table)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func writeKubeconfig(t *testing.T, server string) string {
	t.Helper()
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {server: %q}
users:
- name: fake
  user: {}
contexts:
- name: fake
  context: {cluster: fake, user: fake, namespace: default}
current-context: fake
`, server)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// columnsOf splits kubectl output into rows of cells: kubectl pads columns
// with at least two spaces while cell text uses single ones.
func columnsOf(out string) [][]string {
	sep := regexp.MustCompile(`\s{2,}`)
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		rows = append(rows, sep.Split(strings.TrimSpace(line), -1))
	}
	return rows
}

func TestRealKubectlGetPods(t *testing.T) {
	if _, err := os.Stat(kubectlPath); err != nil {
		t.Skip("kubectl not installed")
	}
	crash := podWith(func(p *corev1.Pod) {
		p.Name = "web-crash"
		p.Labels = map[string]string{"app": "web"}
		cs := &p.Status.ContainerStatuses[0]
		cs.Ready, cs.RestartCount, cs.State = false, 3, waiting("CrashLoopBackOff")
		cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(2 * time.Minute)}
	})
	srv := fakeAPIServer(t, []runtime.Object{podWith(nil), crash})
	kubeconfig := writeKubeconfig(t, srv.URL)
	cache := t.TempDir()

	tests := []struct {
		args []string
		want [][]string
	}{
		{[]string{"get", "pods"}, [][]string{
			{"NAME", "READY", "STATUS", "RESTARTS", "AGE"},
			{"web", "1/1", "Running", "0", "10m"},
			{"web-crash", "0/1", "CrashLoopBackOff", "3 (2m ago)", "10m"},
		}},
		{[]string{"get", "pods", "-o", "wide"}, [][]string{
			{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"},
			{"web", "1/1", "Running", "0", "10m", "10.1.0.5", "node-a", "<none>", "<none>"},
			{"web-crash", "0/1", "CrashLoopBackOff", "3 (2m ago)", "10m", "10.1.0.5", "node-a", "<none>", "<none>"},
		}},
		{[]string{"get", "pods", "--show-labels", "--no-headers"}, [][]string{
			{"web", "1/1", "Running", "0", "10m", "<none>"},
			{"web-crash", "0/1", "CrashLoopBackOff", "3 (2m ago)", "10m", "app=web"},
		}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			args := append([]string{"--kubeconfig", kubeconfig, "--cache-dir", cache}, tc.args...)
			out, err := exec.CommandContext(ctx, kubectlPath, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("kubectl %v: %v\n%s", tc.args, err, out)
			}
			t.Logf("kubectl %v:\n%s", tc.args, out)
			got := columnsOf(string(out))
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("kubectl output:\n%s\ngot  %q\nwant %q", out, got, tc.want)
			}
		})
	}
}
