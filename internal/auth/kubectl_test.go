package auth

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/navarch/navarch/internal/pki"
)

// TestKubectl checks the end-to-end behaviour with the real kubectl: the
// generated kubeconfig works, and a foreign certificate yields kubectl's
// usual "Unauthorized" message rather than a TLS error.
func TestKubectl(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed")
	}
	env := newTestEnv(t)
	dir := t.TempDir()
	write := func(name string, pp pemPair) string {
		p := filepath.Join(dir, name)
		if err := pki.WriteKubeconfig(p, env.srv.URL, env.ca.CertPEM, pp.cert, pp.key); err != nil {
			t.Fatal(err)
		}
		return p
	}
	adminCfg := write("admin", env.adminPEM)
	rogueCfg := write("rogue", env.roguePEM)

	tests := []struct {
		name       string
		kubeconfig string
		wantOK     bool
		wantOut    string
	}{
		{"admin", adminCfg, true, "true|admin|system:masters"},
		{"foreign CA", rogueCfg, false, "You must be logged in to the server (Unauthorized)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(kubectl, "--kubeconfig", tt.kubeconfig, "get", "--raw", "/api")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			if (err == nil) != tt.wantOK {
				t.Fatalf("kubectl err = %v, output %s", err, out.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("kubectl output %q does not contain %q", out.String(), tt.wantOut)
			}
		})
	}
}
