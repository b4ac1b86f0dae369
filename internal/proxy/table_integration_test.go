package proxy

import (
	"fmt"
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

// servers attaches one pod per ip, each answering its own ip on :8080,
// and returns a client pod.
func (n *testNode) servers(t *testing.T, ips ...string) *netnstest.NS {
	for _, ip := range ips {
		n.pod(t, ip).Serve(":8080", ip)
	}
	return n.pod(t, "10.244.1.9")
}

// testGenerator generates rules for the test node's cluster CIDR.
func testGenerator() Generator {
	_, cidr, _ := net.ParseCIDR("10.244.0.0/16")
	return Generator{ClusterCIDR: cidr}
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
	g := testGenerator()
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

// ruleHandles lists the table's rules with their handles (a rule rewritten
// gets a new handle).
func (n *testNode) ruleHandles(t *testing.T) string {
	out, err := n.ns.Exec("nft", "-a", "list", "table", "ip", "navarch-test")
	if err != nil {
		t.Fatalf("nft list: %v\n%s", err, out)
	}
	var rules []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		object := false
		for _, p := range []string{"table ", "chain ", "map ", "set "} {
			object = object || strings.HasPrefix(l, p)
		}
		if strings.Contains(l, "# handle") && !object {
			rules = append(rules, l)
		}
	}
	return strings.Join(rules, "\n")
}

func TestTableEndpointChangesRewriteNoRule(t *testing.T) {
	n := newTestNode(t)
	ips := []string{"10.244.1.2", "10.244.1.3", "10.244.1.4"}
	client := n.servers(t, ips...)
	g := testGenerator()
	apply := func(backends ...string) {
		t.Helper()
		sp := ServicePort{Service: nn("default", "web"), PortName: "http", Protocol: "TCP", ClusterIP: net.ParseIP("10.96.0.50").To4(), Port: 80}
		for _, ip := range backends {
			sp.Endpoints = append(sp.Endpoints, Endpoint{IP: net.ParseIP(ip).To4(), Port: 8080, Ready: true})
		}
		if err := n.table.Apply(map[string]*Objects{"default/web": g.Service([]ServicePort{sp})}); err != nil {
			t.Fatalf("apply %v: %v\n%s", backends, err, n.list(t))
		}
		seen := map[string]int{}
		for range 15 * len(backends) {
			body, err := client.Get("10.96.0.50:80")
			if err != nil {
				t.Fatalf("get with %v: %v\n%s", backends, err, n.list(t))
			}
			seen[body]++
		}
		if len(seen) != len(backends) {
			t.Errorf("backends %v: replies %v\n%s", backends, seen, n.list(t))
		}
	}
	apply(ips[0], ips[1])
	rules := n.ruleHandles(t)
	if !strings.Contains(rules, "dnat ip to numgen random mod 65536 map @endpoints-0 # handle") {
		t.Fatalf("no endpoint map rule:\n%s", rules)
	}
	// Replaced, grown, shrunk and replaced again: only map elements change.
	for _, backends := range [][]string{{ips[0], ips[2]}, ips, {ips[1]}, {ips[2]}, {ips[0], ips[1]}} {
		apply(backends...)
		if got := n.ruleHandles(t); got != rules {
			t.Fatalf("endpoints %v rewrote rules:\nbefore\n%s\nafter\n%s", backends, rules, got)
		}
	}
}

func TestTableHairpinPairsAreCounted(t *testing.T) {
	n := newTestNode(t)
	g := testGenerator()
	svc := func(name, vip string, backends ...string) *Objects {
		sp := ServicePort{Service: nn("default", name), Protocol: "TCP", ClusterIP: net.ParseIP(vip).To4(), Port: 80}
		for _, ip := range backends {
			sp.Endpoints = append(sp.Endpoints, Endpoint{IP: net.ParseIP(ip).To4(), Port: 8080, Ready: true})
		}
		return g.Service([]ServicePort{sp})
	}
	pairs := func() string {
		out, err := n.ns.Exec("nft", "list", "set", "ip", "navarch-test", "hairpin-endpoints")
		if err != nil {
			t.Fatalf("nft list set: %v\n%s", err, out)
		}
		var got []string
		for _, ip := range []string{"10.244.1.2", "10.244.1.3", "10.244.1.4"} {
			if strings.Contains(out, ip+" . "+ip) {
				got = append(got, ip)
			}
		}
		return strings.Join(got, " ")
	}
	steps := []struct {
		changes map[string]*Objects
		want    string
	}{
		{map[string]*Objects{"default/a": svc("a", "10.96.0.1", "10.244.1.2", "10.244.1.3"), "default/b": svc("b", "10.96.0.2", "10.244.1.3")}, "10.244.1.2 10.244.1.3"},
		{map[string]*Objects{"default/a": svc("a", "10.96.0.1", "10.244.1.2")}, "10.244.1.2 10.244.1.3"},
		{map[string]*Objects{"default/b": nil}, "10.244.1.2"},
		// One Service drops an address another takes in the same batch.
		{map[string]*Objects{"default/a": svc("a", "10.96.0.1", "10.244.1.4"), "default/b": svc("b", "10.96.0.2", "10.244.1.2")}, "10.244.1.2 10.244.1.4"},
		{map[string]*Objects{"default/a": nil, "default/b": nil}, ""},
	}
	for i, s := range steps {
		if err := n.table.Apply(s.changes); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := pairs(); got != s.want {
			t.Errorf("step %d: hairpin pairs %q, want %q\n%s", i, got, s.want, n.list(t))
		}
	}
}

func TestTableEndpointMapSlotsAcrossBuckets(t *testing.T) {
	n := newTestNode(t)
	pods := []string{"10.244.1.2", "10.244.1.3", "10.244.1.4"}
	client := n.servers(t, pods...)
	g := testGenerator()
	svc := func(i int, backend string) *Objects {
		sp := ServicePort{Service: nn("default", fmt.Sprintf("s%d", i)), Protocol: "TCP", ClusterIP: net.IPv4(10, 96, 1, byte(i)).To4(), Port: 80,
			Endpoints: []Endpoint{{IP: net.ParseIP(backend).To4(), Port: 8080, Ready: true}}}
		return g.Service([]ServicePort{sp})
	}
	backend := map[int]string{}
	changes := map[string]*Objects{}
	for i := range slotsPerBucket + 10 {
		backend[i] = pods[i%3]
		changes[fmt.Sprintf("default/s%d", i)] = svc(i, backend[i])
	}
	check := func(step string) {
		t.Helper()
		for i, want := range backend {
			got, err := client.Get(fmt.Sprintf("10.96.1.%d:80", i))
			if err != nil || got != want {
				t.Fatalf("%s: service %d answered %q (err %v), want %q\n%s", step, i, got, err, want, n.list(t))
			}
		}
	}
	apply := func(step string) {
		t.Helper()
		if err := n.table.Apply(changes); err != nil {
			t.Fatalf("%s: %v\n%s", step, err, n.list(t))
		}
		changes = map[string]*Objects{}
		check(step)
	}
	apply("two buckets")
	if l := n.list(t); !strings.Contains(l, "offset 65536 map @endpoints-0") || !strings.Contains(l, "map @endpoints-1") {
		t.Errorf("slots do not spread over bucket maps:\n%s", l)
	}
	// Freed and taken in one batch, then reused by the next.
	for i := 3; i < 9; i++ {
		changes[fmt.Sprintf("default/s%d", i)] = nil
		delete(backend, i)
	}
	for i := 100; i < 103; i++ {
		backend[i] = pods[(i+1)%3]
		changes[fmt.Sprintf("default/s%d", i)] = svc(i, backend[i])
	}
	apply("freed and taken")
	for i := 103; i < 110; i++ {
		backend[i] = pods[(i+2)%3]
		changes[fmt.Sprintf("default/s%d", i)] = svc(i, backend[i])
	}
	backend[2] = pods[1]
	changes["default/s2"] = svc(2, backend[2])
	apply("reused")
}
