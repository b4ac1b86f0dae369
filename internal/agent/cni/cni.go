package cni

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
)

// DefaultBinDir is where Debian installs the CNI plugins.
const DefaultBinDir = "/usr/lib/cni"

// NetworkName is the CNI network of every navarch pod.
const NetworkName = "navarch"

// Config is one node's pod network.
type Config struct {
	// PodCIDR is the node's pod range; the bridge takes its first address
	// as the pods' gateway.
	PodCIDR string
	// Bridge is the Linux bridge name (at most 15 bytes).
	Bridge string
	// BinDir holds the plugins; ConfDir receives the conflist; IPAMDir is
	// host-local's store of allocated addresses.
	BinDir, ConfDir, IPAMDir string
	// MTU of the bridge and pod interfaces (0: the plugin's default).
	MTU int
}

// BridgeName derives a bridge name unique to a data dir, so that several
// agents on one machine (tests, several clusters) never share a bridge.
func BridgeName(dataDir string) string {
	sum := sha256.Sum256([]byte(dataDir))
	return "nv" + hex.EncodeToString(sum[:])[:10]
}

// plugins are the binaries the conflist uses.
var plugins = []string{"bridge", "host-local", "portmap", "loopback"}

// CheckPlugins reports the first plugin missing from dir.
func CheckPlugins(dir string) error {
	for _, p := range plugins {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			return fmt.Errorf("CNI plugin %s not found in %s (install containernetworking-plugins): %w", p, dir, err)
		}
	}
	return nil
}

// Render returns the conflist for c.
func (c Config) Render() ([]byte, error) {
	_, cidr, err := net.ParseCIDR(c.PodCIDR)
	if err != nil {
		return nil, fmt.Errorf("pod CIDR %q: %w", c.PodCIDR, err)
	}
	if len(c.Bridge) == 0 || len(c.Bridge) > 15 {
		return nil, fmt.Errorf("bridge name %q must be 1 to 15 bytes", c.Bridge)
	}
	defaultRoute := "0.0.0.0/0"
	if cidr.IP.To4() == nil {
		defaultRoute = "::/0"
	}
	bridge := map[string]any{
		"type": "bridge", "bridge": c.Bridge,
		"isGateway": true, "ipMasq": false, "hairpinMode": true,
		"ipam": map[string]any{
			"type":    "host-local",
			"ranges":  [][]map[string]string{{{"subnet": cidr.String()}}},
			"routes":  []map[string]string{{"dst": defaultRoute}},
			"dataDir": c.IPAMDir,
		},
	}
	if c.MTU > 0 {
		bridge["mtu"] = c.MTU
	}
	list := map[string]any{
		"cniVersion": "1.0.0",
		"name":       NetworkName,
		"plugins": []any{
			bridge,
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}, "snat": true},
			map[string]any{"type": "loopback"},
		},
	}
	return json.MarshalIndent(list, "", "  ")
}

// Write writes the conflist into ConfDir atomically: containerd watches
// the directory and must never load half a file. Earlier navarch
// conflists with another name are not left behind.
func (c Config) Write() error {
	data, err := c.Render()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.ConfDir, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(c.IPAMDir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(c.ConfDir, "10-navarch.conflist")
	if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
		return nil
	}
	tmp := filepath.Join(c.ConfDir, ".10-navarch.conflist.tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Configured reports whether the conflist exists.
func (c Config) Configured() bool {
	_, err := os.Stat(filepath.Join(c.ConfDir, "10-navarch.conflist"))
	return err == nil
}

// Clashes lists the interfaces other than bridge that hold an address in
// cidr: another network (or another cluster's bridge on this machine)
// using the pod range makes pods unreachable from the host.
func Clashes(cidr, bridge string) []string {
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		return nil
	}
	ifaces, _ := net.Interfaces()
	var out []string
	for _, ifc := range ifaces {
		if ifc.Name == bridge {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && (n.Contains(ipn.IP) || ipn.Contains(n.IP)) {
				out = append(out, ifc.Name)
				break
			}
		}
	}
	return out
}

// FreeCIDR picks a random /24 in 10.200.0.0-10.249.255.0 that no interface
// on the machine clashes with, for tests and benchmarks that need a pod
// CIDR of their own.
func FreeCIDR() (string, bool) {
	for range 1000 {
		cidr := fmt.Sprintf("10.%d.%d.0/24", 200+rand.IntN(50), rand.IntN(256))
		if len(Clashes(cidr, "")) == 0 {
			return cidr, true
		}
	}
	return "", false
}
