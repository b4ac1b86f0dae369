package containerd

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Config describes the containerd to run.
type Config struct {
	// Binary is the containerd executable (default: "containerd" in PATH).
	Binary string
	// Dir holds everything containerd owns: config, root, state, socket,
	// log. It must be short enough for a unix socket path (about 100 bytes).
	Dir string
	// SandboxImage is the pause image; it must exist locally, since this
	// machine may have no registry.
	SandboxImage string
	// CNIBinDir and CNIConfDir are where the CNI plugins and the agent's
	// conflist live.
	CNIBinDir, CNIConfDir string
	// Mirrors maps a registry host ("127.0.0.1:5000") to the endpoint
	// containerd should use for it; "http://" endpoints are plain HTTP.
	Mirrors map[string]string
}

// Socket is containerd's gRPC socket for cfg.
func (c Config) Socket() string { return filepath.Join(c.Dir, "containerd.sock") }

func (c Config) configPath() string { return filepath.Join(c.Dir, "config.toml") }

// unixPathMax is sun_path's size on Linux, terminating NUL included.
const unixPathMax = 108

// render returns config.toml. Every path is inside Dir, so that several
// containerds (one per agent, as in tests) share nothing on the machine;
// the CRI streaming server takes a kernel-chosen port for the same reason.
func (c Config) render() (string, error) {
	// containerd also listens on <socket>.ttrpc.
	if n := len(c.Socket()) + len(".ttrpc"); n >= unixPathMax {
		return "", fmt.Errorf("containerd socket path %s is too long for a unix socket (%d bytes); use a shorter data dir", c.Socket(), n)
	}
	q := strconv.Quote
	var b strings.Builder
	fmt.Fprintf(&b, "version = 2\nroot = %s\nstate = %s\n", q(filepath.Join(c.Dir, "root")), q(filepath.Join(c.Dir, "state")))
	// Snapshotters and tracing that cannot work here only add start-up time
	// and warnings.
	b.WriteString(`disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]` + "\n")
	fmt.Fprintf(&b, "\n[grpc]\n  address = %s\n", q(c.Socket()))
	b.WriteString("\n[debug]\n  level = \"info\"\n")
	fmt.Fprintf(&b, "\n[plugins.\"io.containerd.internal.v1.opt\"]\n  path = %s\n", q(filepath.Join(c.Dir, "opt")))
	cri := `[plugins."io.containerd.grpc.v1.cri"]`
	fmt.Fprintf(&b, "\n%s\n  sandbox_image = %s\n", cri, q(c.SandboxImage))
	// Without CAP_SYS_RESOURCE runc cannot lower oom_score_adj; containerd
	// then clamps the requested value instead of failing.
	b.WriteString("  restrict_oom_score_adj = true\n")
	b.WriteString("  stream_server_address = \"127.0.0.1\"\n  stream_server_port = \"0\"\n")
	b.WriteString("  tolerate_missing_hugetlb_controller = true\n  disable_hugetlb_controller = true\n")
	// Pod network namespaces live in our state dir, not /run/netns: that
	// directory is often a shared bind mount of itself (iproute2 makes it
	// one), where each netns mount appears twice and cannot be removed.
	b.WriteString("  netns_mounts_under_state_dir = true\n")
	fmt.Fprintf(&b, "\n%s.containerd]\n  snapshotter = \"overlayfs\"\n  default_runtime_name = \"runc\"\n", strings.TrimSuffix(cri, "]"))
	fmt.Fprintf(&b, "\n%s.containerd.runtimes.runc]\n  runtime_type = \"io.containerd.runc.v2\"\n", strings.TrimSuffix(cri, "]"))
	// runc keeps its state per containerd, not in the machine-wide default.
	fmt.Fprintf(&b, "\n%s.containerd.runtimes.runc.options]\n  SystemdCgroup = false\n  Root = %s\n", strings.TrimSuffix(cri, "]"), q(filepath.Join(c.Dir, "runc")))
	fmt.Fprintf(&b, "\n%s.cni]\n  bin_dir = %s\n  conf_dir = %s\n  max_conf_num = 1\n", strings.TrimSuffix(cri, "]"), q(c.CNIBinDir), q(c.CNIConfDir))
	fmt.Fprintf(&b, "\n%s.registry]\n  config_path = %s\n", strings.TrimSuffix(cri, "]"), q(c.hostsDir()))
	return b.String(), nil
}

func (c Config) hostsDir() string { return filepath.Join(c.Dir, "certs.d") }

// write writes config.toml and one hosts.toml per mirror, replacing the
// mirrors of an earlier run.
func (c Config) write() error {
	text, err := c.render()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	if err := os.RemoveAll(c.hostsDir()); err != nil {
		return err
	}
	hosts := make([]string, 0, len(c.Mirrors))
	for h := range c.Mirrors {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		if err := writeHosts(c.hostsDir(), h, c.Mirrors[h]); err != nil {
			return err
		}
	}
	return os.WriteFile(c.configPath(), []byte(text), 0o600)
}

// writeHosts writes certs.d/<host>/hosts.toml sending host to endpoint.
func writeHosts(dir, host, endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("registry mirror for %s: want an http(s) URL, got %q", host, endpoint)
	}
	if strings.ContainsAny(host, "/ ") || host == "" {
		return fmt.Errorf("registry mirror: invalid host %q", host)
	}
	q := strconv.Quote
	text := fmt.Sprintf("server = %s\n\n[host.%s]\n  capabilities = [\"pull\", \"resolve\"]\n", q(endpoint), q(endpoint))
	if u.Scheme == "https" {
		text += "  skip_verify = false\n"
	}
	d := filepath.Join(dir, host)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d, "hosts.toml"), []byte(text), 0o600)
}
