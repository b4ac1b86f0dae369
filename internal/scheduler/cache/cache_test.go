package cache_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/navarch/navarch/internal/scheduler/cache"
	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/schedtest"
)

type req = map[corev1.ResourceName]string

func TestAssumeConfirmForget(t *testing.T) {
	c := cache.New()
	c.AddNode(schedtest.MakeNode().Name("n1").Capacity(req{"cpu": "4"}).Obj())
	c.AddNode(schedtest.MakeNode().Name("n2").Zone("b").Capacity(req{"cpu": "4"}).Obj())
	snap := cache.NewEmptySnapshot()
	c.UpdateSnapshot(snap)
	if snap.NumNodes() != 2 {
		t.Fatalf("nodes = %d", snap.NumNodes())
	}
	pod := schedtest.MakePod().Name("p").Node("n1").Req(req{"cpu": "1"}).Obj()
	if err := c.AssumePod(framework.NewPodInfo(pod)); err != nil {
		t.Fatal(err)
	}
	if !c.IsAssumedPod(pod) {
		t.Fatal("not assumed")
	}
	c.UpdateSnapshot(snap)
	ni, _ := snap.Get("n1")
	if ni.Requested.MilliCPU != 1000 || len(ni.Pods) != 1 {
		t.Fatalf("assumed pod not counted: %+v", ni.Requested)
	}
	// The watch confirms it: still counted once.
	if err := c.AddPod(framework.NewPodInfo(pod.DeepCopy())); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(snap)
	if ni, _ := snap.Get("n1"); len(ni.Pods) != 1 || c.IsAssumedPod(pod) {
		t.Fatalf("confirmed pod: %d pods, assumed %v", len(ni.Pods), c.IsAssumedPod(pod))
	}
	if err := c.ForgetPod(pod); err == nil {
		t.Fatal("a confirmed pod was forgotten")
	}
	other := schedtest.MakePod().Name("o").Node("n2").Req(req{"cpu": "2"}).Obj()
	_ = c.AssumePod(framework.NewPodInfo(other))
	if err := c.ForgetPod(other); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(snap)
	if ni, _ := snap.Get("n2"); ni.Requested.MilliCPU != 0 {
		t.Fatal("forgotten pod still counted")
	}
	if err := c.RemovePod(pod); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(snap)
	if ni, _ := snap.Get("n1"); len(ni.Pods) != 0 {
		t.Fatal("removed pod still counted")
	}
}

func TestNodeRemovalAndAffinityLists(t *testing.T) {
	c := cache.New()
	c.AddNode(schedtest.MakeNode().Name("n1").Obj())
	anti := schedtest.MakePod().Name("a").Node("n1").Label("app", "x").PodAntiAffinity(corev1.LabelHostname, map[string]string{"app": "x"}).Obj()
	_ = c.AddPod(framework.NewPodInfo(anti))
	snap := cache.NewEmptySnapshot()
	c.UpdateSnapshot(snap)
	if len(snap.HavePodsWithRequiredAntiAffinityList()) != 1 || len(snap.HavePodsWithAffinityList()) != 1 {
		t.Fatal("affinity lists not built")
	}
	c.RemoveNode(schedtest.MakeNode().Name("n1").Obj())
	c.UpdateSnapshot(snap)
	if snap.NumNodes() != 0 || len(snap.HavePodsWithRequiredAntiAffinityList()) != 0 {
		t.Fatal("removed node still listed")
	}
	// The pod goes last; the placeholder goes with it.
	if err := c.RemovePod(anti); err != nil {
		t.Fatal(err)
	}
	if n, p, _ := c.Counts(); n != 0 || p != 0 {
		t.Fatalf("counts %d %d", n, p)
	}
}

func TestZoneInterleaving(t *testing.T) {
	var nodes []*corev1.Node
	for _, z := range []string{"a", "a", "a", "b", "c"} {
		nodes = append(nodes, schedtest.MakeNode().Name(z+string(rune('0'+len(nodes)))).Zone(z).Obj())
	}
	s := cache.NewSnapshot(nil, nodes)
	var got string
	for _, ni := range s.List() {
		got += ni.Node().Labels[corev1.LabelTopologyZone]
	}
	if got != "abcaa" {
		t.Errorf("order by zone %q, want abcaa", got)
	}
}

// TestIndexesFollowChanges checks that the shared term counts, kept up to
// date incrementally, always equal a fresh count.
func TestIndexesFollowChanges(t *testing.T) {
	c := cache.New()
	for i := range 4 {
		c.AddNode(schedtest.MakeNode().Name(string(rune('a' + i))).Zone([]string{"x", "y"}[i%2]).Obj())
	}
	snap := cache.NewEmptySnapshot()
	c.UpdateSnapshot(snap)
	red := map[string]string{"color": "red"}
	term, err := framework.NewAffinityTerm(schedtest.MakePod().Obj(),
		&corev1.PodAffinityTerm{TopologyKey: corev1.LabelTopologyZone, LabelSelector: &metav1.LabelSelector{MatchLabels: red}})
	if err != nil {
		t.Fatal(err)
	}
	got := snap.PodsMatching(&term, false) // cached from now on
	pods := []*corev1.Pod{
		schedtest.MakePod().Name("p1").Labels(red).Node("a").PodAntiAffinity(corev1.LabelHostname, red).Obj(),
		schedtest.MakePod().Name("p2").Labels(red).Node("b").PodAntiAffinity(corev1.LabelHostname, red).Obj(),
		schedtest.MakePod().Name("p3").Labels(red).Node("c").Obj(),
		schedtest.MakePod().Name("p4").Label("color", "blue").Node("c").Obj(),
	}
	for _, p := range pods {
		if err := c.AssumePod(framework.NewPodInfo(p)); err != nil {
			t.Fatal(err)
		}
		c.UpdateSnapshot(snap)
	}
	check := func(want map[string]int64, antiOnA int64) {
		t.Helper()
		if len(got.Counts) != len(want) {
			t.Fatalf("counts %v, want %v", got.Counts, want)
		}
		for k, v := range want {
			if got.Counts[k] != v {
				t.Fatalf("counts %v, want %v", got.Counts, want)
			}
		}
		var anti int64
		for _, g := range snap.RequiredAntiAffinityGroups() {
			anti += g.Counts["a"]
		}
		if anti != antiOnA {
			t.Fatalf("anti-affinity pods on a: %d, want %d", anti, antiOnA)
		}
	}
	check(map[string]int64{"x": 2, "y": 1}, 1)
	if err := c.ForgetPod(pods[0]); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(snap)
	check(map[string]int64{"x": 1, "y": 1}, 0)
	if l := snap.HavePodsWithRequiredAntiAffinityList(); len(l) != 1 || l[0].Name() != "b" {
		t.Fatalf("nodes with anti-affinity pods after a removal: %d", len(l))
	}
	if d := snap.Domains(corev1.LabelTopologyZone); d["x"] != 2 || d["y"] != 2 {
		t.Fatalf("domains %v", d)
	}
}
