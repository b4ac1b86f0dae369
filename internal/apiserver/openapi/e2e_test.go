package openapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/navarch/navarch/internal/apiserver/discovery"
)

const kubectlPath = "/usr/bin/kubectl"

// startServer serves discovery and OpenAPI the way the API server mounts
// them, and returns a kubeconfig pointing at it.
func startServer(t *testing.T) string {
	t.Helper()
	res := testResources()
	disc, oa := discovery.New(res), New(res, "v1.37.2")
	mux := http.NewServeMux()
	mux.Handle("/api", disc)
	mux.Handle("/api/", disc)
	mux.Handle("/apis", disc)
	mux.Handle("/apis/", disc)
	mux.Handle("/openapi/", oa)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %s
contexts:
- name: test
  context:
    cluster: test
    user: test
current-context: test
users:
- name: test
  user: {}
`, srv.URL)
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return kubeconfig
}

func kubectl(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := filepath.Dir(kubeconfig)
	args = append([]string{"--kubeconfig", kubeconfig, "--cache-dir", filepath.Join(dir, "cache")}, args...)
	cmd := exec.CommandContext(ctx, kubectlPath, args...)
	cmd.Env = append(os.Environ(), "HOME="+dir, "KUBECONFIG="+kubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("kubectl %s:\n%s", strings.Join(args[4:], " "), out)
	return string(out)
}

func requireKubectl(t *testing.T) {
	if _, err := os.Stat(kubectlPath); err != nil {
		t.Skip("kubectl not installed")
	}
	if testing.Short() {
		t.Skip("runs the real kubectl")
	}
}

func TestKubectlExplain(t *testing.T) {
	requireKubectl(t)
	kc := startServer(t)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"explain", "deployment.spec.strategy"}, []string{
			"GROUP:      apps", "KIND:       Deployment", "VERSION:    v1",
			"The deployment strategy to use to replace existing pods with new ones.",
			"rollingUpdate", "RollingUpdateDeployment"}},
		{[]string{"explain", "pods.spec.containers"}, []string{"KIND:       Pod", "name\t<string> -required-", "image"}},
		{[]string{"explain", "hpa", "--api-version=autoscaling/v1"}, []string{"VERSION:    v1", "HorizontalPodAutoscaler"}},
		{[]string{"explain", "deployment.spec.strategy.rollingUpdate.maxSurge"}, []string{"maxSurge", "IntOrString"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out := kubectl(t, kc, tt.args...)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestKubectlAPIResources(t *testing.T) {
	requireKubectl(t)
	out := kubectl(t, startServer(t), "api-resources")
	rows := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			rows[f[0]+" "+f[len(f)-3]] = f
		}
	}
	want := []string{
		"pods po v1 true Pod",
		"namespaces ns v1 false Namespace",
		"deployments deploy apps/v1 true Deployment",
		"horizontalpodautoscalers hpa autoscaling/v2 true HorizontalPodAutoscaler",
		"events ev events.k8s.io/v1 true Event",
	}
	for _, w := range want {
		f := strings.Fields(w)
		if got := rows[f[0]+" "+f[2]]; strings.Join(got, " ") != w {
			t.Errorf("row %q: got %q\n%s", w, got, out)
		}
	}
}
