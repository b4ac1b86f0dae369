package proxy

import (
	"net"
	"os"
	"strings"
	"testing"

	"github.com/navarch/navarch/internal/proxy/netnstest"
)

// testNode is a node namespace with a pod bridge 10.244.1.1/24 and
// forwarding on, and navarch's table programmed in it.
type testNode struct {
	ns    *netnstest.NS
	table *Table
}

func newTestNode(t *testing.T) *testNode {
	t.Helper()
	netnstest.Require(t)
	ns := netnstest.New(t, "nvpx")
	ns.Bridge("br0", "10.244.1.1/24")
	if err := ns.Do(func() error { return os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644) }); err != nil {
		t.Fatal(err)
	}
	fd, err := ns.Fd()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeFd(fd) })
	tbl, err := OpenTable("navarch-test", fd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tbl.Close() })
	if err := tbl.Reset(); err != nil {
		t.Fatalf("reset: %v", err)
	}
	return &testNode{ns: ns, table: tbl}
}

func (n *testNode) pod(t *testing.T, ip string) *netnstest.NS {
	return netnstest.Attach(t, n.ns, "br0", "nvpod", ip+"/24", "10.244.1.1")
}

func (n *testNode) list(t *testing.T) string {
	out, err := n.ns.Exec("nft", "list", "table", "ip", "navarch-test")
	if err != nil {
		t.Fatalf("nft list: %v\n%s", err, out)
	}
	return out
}

func TestTableProgramsClusterIP(t *testing.T) {
	n := newTestNode(t)
	a, b := n.pod(t, "10.244.1.2"), n.pod(t, "10.244.1.3")
	a.Serve(":8080", "a")
	b.Serve(":8080", "b")
	client := n.pod(t, "10.244.1.9")
	_, cidr, _ := net.ParseCIDR("10.244.0.0/16")
	g := Generator{ClusterCIDR: cidr}
	sp := ServicePort{Service: nn("default", "web"), PortName: "http", Protocol: "TCP", ClusterIP: net.ParseIP("10.96.0.50").To4(), Port: 80,
		Endpoints: []Endpoint{{IP: net.ParseIP("10.244.1.2").To4(), Port: 8080, Ready: true}, {IP: net.ParseIP("10.244.1.3").To4(), Port: 8080, Ready: true}}}
	if err := n.table.Apply(map[string]*Objects{"default/web": g.Service([]ServicePort{sp})}); err != nil {
		t.Fatalf("apply: %v\n%s", err, n.list(t))
	}
	seen := map[string]int{}
	for range 40 {
		body, err := client.Get("10.96.0.50:80")
		if err != nil {
			t.Fatalf("get: %v\n%s", err, n.list(t))
		}
		seen[body]++
	}
	if seen["a"] == 0 || seen["b"] == 0 {
		t.Errorf("replies %v, want both backends", seen)
	}
	if l := n.list(t); !strings.Contains(l, "svc-default/web/tcp/http") {
		t.Errorf("table lacks the service chain:\n%s", l)
	}
}
