package routes

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/navarch/navarch/internal/proxy/netnstest"
)

func node(name, ip string, cidrs ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{PodCIDRs: cidrs}}
	if len(cidrs) > 0 {
		n.Spec.PodCIDR = cidrs[0]
	}
	if ip != "" {
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name}, {Type: corev1.NodeInternalIP, Address: ip}}
	}
	return n
}

func TestWanted(t *testing.T) {
	nodes := []*corev1.Node{
		node("n1", "172.31.250.11", "10.244.1.0/24"),
		node("n2", "172.31.250.12", "10.244.2.0/24", "fd00:2::/64"),
		node("n3", "", "10.244.3.0/24"),
		node("n4", "172.31.250.14"),
	}
	got := fmt.Sprint(Wanted(nodes, "n1"))
	if want := "[10.244.2.0/24 via 172.31.250.12]"; got != want {
		t.Errorf("Wanted = %s, want %s (self, nodes without IP or CIDR, and other families skipped)", got, want)
	}
}

func TestApplyInNamespace(t *testing.T) {
	netnstest.Require(t)
	ns := netnstest.New(t, "nvrt")
	ns.IP("link", "add", "d0", "type", "veth", "peer", "name", "d1")
	ns.IP("link", "set", "d1", "up")
	ns.IP("addr", "add", "172.31.250.11/24", "dev", "d0")
	ns.IP("link", "set", "d0", "up")
	// A route someone else made must survive.
	ns.IP("route", "add", "10.99.0.0/16", "via", "172.31.250.99")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	apply := func(nodes ...*corev1.Node) error {
		return ns.Do(func() error { return Apply(Wanted(nodes, "n1"), log) })
	}
	if err := apply(node("n2", "172.31.250.12", "10.244.2.0/24"), node("n3", "172.31.250.13", "10.244.3.0/24")); err != nil {
		t.Fatal(err)
	}
	routes := ns.IP("route", "show")
	for _, w := range []string{"10.244.2.0/24 via 172.31.250.12 dev d0 proto 212", "10.244.3.0/24 via 172.31.250.13 dev d0 proto 212"} {
		if !strings.Contains(routes, w) {
			t.Errorf("routes lack %q:\n%s", w, routes)
		}
	}
	// n3 moved to another address, n2 left.
	if err := apply(node("n3", "172.31.250.23", "10.244.3.0/24")); err != nil {
		t.Fatal(err)
	}
	routes = ns.IP("route", "show")
	if strings.Contains(routes, "10.244.2.0/24") || !strings.Contains(routes, "10.244.3.0/24 via 172.31.250.23") || !strings.Contains(routes, "10.99.0.0/16") {
		t.Errorf("after the change:\n%s", routes)
	}
	// A gateway off the link is an error, not a crash.
	if err := apply(node("n5", "192.0.2.200", "10.244.5.0/24")); err == nil || !strings.Contains(err.Error(), "share a link") {
		t.Errorf("off-link gateway: %v", err)
	}
}
