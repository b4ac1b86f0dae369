package nodeipam_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/nodeipam"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

const wait = 30 * time.Second

func start(t *testing.T, env *testserver.Env, opts func(*controller.Options)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cc, startInformers := env.ControllerContext(t, ctx)
	if opts != nil {
		opts(&cc.Options)
	}
	ctl, err := nodeipam.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	startInformers()
	done := make(chan struct{})
	go func() { defer close(done); _ = ctl.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func createNode(t *testing.T, env *testserver.Env, name, podCIDR string) {
	t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if podCIDR != "" {
		n.Spec.PodCIDR, n.Spec.PodCIDRs = podCIDR, []string{podCIDR}
	}
	if _, err := env.Client.CoreV1().Nodes().Create(context.Background(), n, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func podCIDRs(t *testing.T, env *testserver.Env, names ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	testserver.Eventually(t, wait, fmt.Sprintf("pod CIDRs on %v", names), func() (bool, error) {
		for _, n := range names {
			node, err := env.Client.CoreV1().Nodes().Get(context.Background(), n, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			if node.Spec.PodCIDR == "" || len(node.Spec.PodCIDRs) != 1 || node.Spec.PodCIDRs[0] != node.Spec.PodCIDR {
				return false, fmt.Errorf("%s: %+v", n, node.Spec)
			}
			out[n] = node.Spec.PodCIDR
		}
		return true, nil
	})
	return out
}

func TestNodeIPAM(t *testing.T) {
	env := testserver.Start(t)
	// Allocations made before the controller starts (by a previous run)
	// are kept and never handed out again.
	createNode(t, env, "old", "10.244.0.0/24")
	createNode(t, env, "foreign", "10.99.0.0/24") // outside the range: left alone
	start(t, env, nil)
	var names []string
	for i := range 10 {
		names = append(names, fmt.Sprintf("node-%d", i))
		createNode(t, env, names[i], "")
	}
	got := podCIDRs(t, env, append(names, "old", "foreign")...)
	if got["old"] != "10.244.0.0/24" || got["foreign"] != "10.99.0.0/24" {
		t.Errorf("existing allocations changed: %v", got)
	}
	cluster := netip.MustParsePrefix("10.244.0.0/16")
	seen := map[string]string{}
	for _, n := range append(names, "old") {
		p := netip.MustParsePrefix(got[n])
		if p.Bits() != 24 || !cluster.Contains(p.Addr()) {
			t.Errorf("%s got %s, want a /24 of %s", n, p, cluster)
		}
		if other, dup := seen[got[n]]; dup {
			t.Errorf("%s and %s share %s", n, other, got[n])
		}
		seen[got[n]] = n
	}
}

func TestNodeIPAMExhaustionAndRelease(t *testing.T) {
	env := testserver.Start(t)
	start(t, env, func(o *controller.Options) { o.ClusterCIDR, o.NodeCIDRMaskSize = "10.0.0.0/30", 31 })
	createNode(t, env, "a", "")
	createNode(t, env, "b", "")
	got := podCIDRs(t, env, "a", "b")
	createNode(t, env, "c", "")
	testserver.Eventually(t, wait, "CIDRNotAvailable event for c", func() (bool, error) {
		evs, err := env.Client.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{
			FieldSelector: fields.OneTermEqualSelector("involvedObject.name", "c").String()})
		if err != nil {
			return false, err
		}
		for _, e := range evs.Items {
			if e.Reason == "CIDRNotAvailable" && e.Message == "Node c status is now: CIDRNotAvailable" {
				return true, nil
			}
		}
		return false, fmt.Errorf("events %v", evs.Items)
	})
	if err := env.Client.CoreV1().Nodes().Delete(context.Background(), "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if c := podCIDRs(t, env, "c")["c"]; c != got["a"] {
		t.Errorf("c got %s, want the subnet %s freed by deleting a", c, got["a"])
	}
}
