package containerd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRenderAndWrite(t *testing.T) {
	dir := t.TempDir()
	c := Config{Dir: dir, SandboxImage: "navarch.io/pause:1", CNIBinDir: "/usr/lib/cni", CNIConfDir: dir + "/net.d",
		Mirrors: map[string]string{"127.0.0.1:5000": "http://127.0.0.1:5000"}}
	text, err := c.render()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`sandbox_image = "navarch.io/pause:1"`, "restrict_oom_score_adj = true", `default_runtime_name = "runc"`,
		"SystemdCgroup = false", `stream_server_port = "0"`, "netns_mounts_under_state_dir = true", `address = "` + dir + `/containerd.sock"`} {
		if !strings.Contains(text, want) {
			t.Errorf("config lacks %s:\n%s", want, text)
		}
	}
	if err := c.write(); err != nil {
		t.Fatal(err)
	}
	hosts, err := os.ReadFile(filepath.Join(dir, "certs.d", "127.0.0.1:5000", "hosts.toml"))
	if err != nil || !strings.Contains(string(hosts), `server = "http://127.0.0.1:5000"`) {
		t.Errorf("hosts.toml %q %v", hosts, err)
	}
	long := Config{Dir: "/" + strings.Repeat("x", 100)}
	if _, err := long.render(); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Errorf("a socket path over the limit: %v", err)
	}
	if err := (Config{Dir: dir, Mirrors: map[string]string{"h": "ftp://x"}}).write(); err == nil {
		t.Error("a non-HTTP mirror was accepted")
	}
}
