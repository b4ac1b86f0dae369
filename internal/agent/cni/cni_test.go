package cni

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	c := Config{PodCIDR: "10.244.3.0/24", Bridge: BridgeName("/var/lib/navarch/agent"), BinDir: DefaultBinDir, ConfDir: "/x", IPAMDir: "/y"}
	b, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Name    string           `json:"name"`
		Plugins []map[string]any `json:"plugins"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, p := range list.Plugins {
		types = append(types, p["type"].(string))
	}
	if strings.Join(types, ",") != "bridge,portmap,loopback" || list.Name != NetworkName {
		t.Errorf("plugins %v, name %s", types, list.Name)
	}
	ipam := list.Plugins[0]["ipam"].(map[string]any)
	if ipam["type"] != "host-local" || !strings.Contains(string(b), `"subnet": "10.244.3.0/24"`) || ipam["dataDir"] != "/y" {
		t.Errorf("ipam %v", ipam)
	}
	if len(c.Bridge) > 15 || BridgeName("/a") == BridgeName("/b") {
		t.Errorf("bridge names: %q", c.Bridge)
	}
	for _, bad := range []Config{{PodCIDR: "nonsense", Bridge: "b"}, {PodCIDR: "10.0.0.0/24", Bridge: "much-too-long-bridge"}} {
		if _, err := bad.Render(); err == nil {
			t.Errorf("%+v rendered", bad)
		}
	}
}

func TestFreeCIDR(t *testing.T) {
	cidr, ok := FreeCIDR()
	if !ok {
		t.Skip("every candidate /24 clashes with an interface here")
	}
	if _, n, err := net.ParseCIDR(cidr); err != nil || n.String() != cidr {
		t.Fatalf("FreeCIDR() = %q (%v), want a /24 network", cidr, err)
	}
	if c := Clashes(cidr, ""); len(c) > 0 {
		t.Errorf("FreeCIDR() = %s clashes with %v", cidr, c)
	}
}
