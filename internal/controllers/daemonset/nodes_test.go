package daemonset

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func node(name string, lbls map[string]string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls}, Spec: corev1.NodeSpec{Taints: taints}}
}

func taint(key string, effect corev1.TaintEffect) corev1.Taint {
	return corev1.Taint{Key: key, Value: "v", Effect: effect}
}

func affinity(terms ...corev1.NodeSelectorTerm) *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms}}}
}

func expr(key string, op corev1.NodeSelectorOperator, vals ...string) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: op, Values: vals}}}
}

func TestPlacement(t *testing.T) {
	ssd := map[string]string{"disk": "ssd", "cores": "8"}
	cases := []struct {
		name      string
		node      *corev1.Node
		spec      corev1.PodSpec
		run, keep bool
	}{
		{"plain node", node("n", nil), corev1.PodSpec{}, true, true},
		{"nodeSelector matches", node("n", ssd), corev1.PodSpec{NodeSelector: map[string]string{"disk": "ssd"}}, true, true},
		{"nodeSelector does not match", node("n", nil), corev1.PodSpec{NodeSelector: map[string]string{"disk": "ssd"}}, false, false},
		{"affinity In", node("n", ssd), corev1.PodSpec{Affinity: affinity(expr("disk", corev1.NodeSelectorOpIn, "hdd", "ssd"))}, true, true},
		{"affinity NotIn", node("n", ssd), corev1.PodSpec{Affinity: affinity(expr("disk", corev1.NodeSelectorOpNotIn, "ssd"))}, false, false},
		{"affinity terms are ORed", node("n", ssd), corev1.PodSpec{Affinity: affinity(
			expr("gpu", corev1.NodeSelectorOpExists), expr("disk", corev1.NodeSelectorOpExists))}, true, true},
		{"affinity DoesNotExist", node("n", ssd), corev1.PodSpec{Affinity: affinity(expr("gpu", corev1.NodeSelectorOpDoesNotExist))}, true, true},
		{"affinity Gt", node("n", ssd), corev1.PodSpec{Affinity: affinity(expr("cores", corev1.NodeSelectorOpGt, "4"))}, true, true},
		{"affinity Lt", node("n", ssd), corev1.PodSpec{Affinity: affinity(expr("cores", corev1.NodeSelectorOpLt, "4"))}, false, false},
		{"affinity matchFields are ignored", node("n", nil), corev1.PodSpec{Affinity: affinity(corev1.NodeSelectorTerm{
			MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"other"}}}})}, true, true},
		{"template nodeName elsewhere", node("n", nil), corev1.PodSpec{NodeName: "other"}, false, false},
		{"template nodeName here", node("n", nil), corev1.PodSpec{NodeName: "n"}, true, true},
		{"untolerated NoSchedule: keep but do not start", node("n", nil, taint("dedicated", corev1.TaintEffectNoSchedule)), corev1.PodSpec{}, false, true},
		{"untolerated NoExecute: neither", node("n", nil, taint("dedicated", corev1.TaintEffectNoExecute)), corev1.PodSpec{}, false, false},
		{"PreferNoSchedule is ignored", node("n", nil, taint("dedicated", corev1.TaintEffectPreferNoSchedule)), corev1.PodSpec{}, true, true},
		{"tolerated by Equal", node("n", nil, taint("dedicated", corev1.TaintEffectNoSchedule)), corev1.PodSpec{Tolerations: []corev1.Toleration{
			{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "v", Effect: corev1.TaintEffectNoSchedule}}}, true, true},
		{"Equal with another value", node("n", nil, taint("dedicated", corev1.TaintEffectNoSchedule)), corev1.PodSpec{Tolerations: []corev1.Toleration{
			{Key: "dedicated", Value: "w"}}}, false, true},
		{"tolerate everything", node("n", nil, taint("a", corev1.TaintEffectNoExecute), taint("b", corev1.TaintEffectNoSchedule)),
			corev1.PodSpec{Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}}}, true, true},
		{"not ready and unreachable are tolerated", node("n", nil, taint(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute),
			taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)), corev1.PodSpec{}, true, true},
		{"pressure and unschedulable are tolerated", node("n", nil, taint(corev1.TaintNodeDiskPressure, corev1.TaintEffectNoSchedule),
			taint(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule), taint(corev1.TaintNodePIDPressure, corev1.TaintEffectNoSchedule),
			taint(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule)), corev1.PodSpec{}, true, true},
		{"network unavailable blocks pod-network pods", node("n", nil, taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)),
			corev1.PodSpec{}, false, true},
		{"network unavailable admits host-network pods", node("n", nil, taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)),
			corev1.PodSpec{HostNetwork: true}, true, true},
	}
	for _, c := range cases {
		run, keep := placement(c.node, &c.spec)
		if run != c.run || keep != c.keep {
			t.Errorf("%s: placement = run %v keep %v, want run %v keep %v", c.name, run, keep, c.run, c.keep)
		}
	}
}

func TestPinToNode(t *testing.T) {
	cases := []struct {
		name  string
		spec  corev1.PodSpec
		terms int
	}{
		{"no affinity", corev1.PodSpec{}, 1},
		{"label terms keep their expressions", corev1.PodSpec{Affinity: affinity(expr("a", corev1.NodeSelectorOpExists), expr("b", corev1.NodeSelectorOpExists))}, 2},
	}
	for _, c := range cases {
		pinToNode(&c.spec, "node-7")
		terms := c.spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
		if len(terms) != c.terms {
			t.Fatalf("%s: %d terms, want %d", c.name, len(terms), c.terms)
		}
		for _, term := range terms {
			if len(term.MatchFields) != 1 || term.MatchFields[0].Key != "metadata.name" || term.MatchFields[0].Values[0] != "node-7" {
				t.Errorf("%s: term %+v does not pin node-7", c.name, term)
			}
			if c.terms == 2 && len(term.MatchExpressions) != 1 {
				t.Errorf("%s: term lost its expressions: %+v", c.name, term)
			}
		}
		p := &corev1.Pod{Spec: c.spec}
		if n, ok := targetNode(p); !ok || n != "node-7" {
			t.Errorf("%s: targetNode = %q, %v", c.name, n, ok)
		}
	}
	if n, ok := targetNode(&corev1.Pod{Spec: corev1.PodSpec{NodeName: "bound"}}); !ok || n != "bound" {
		t.Errorf("targetNode of a bound pod = %q, %v", n, ok)
	}
	if _, ok := targetNode(&corev1.Pod{}); ok {
		t.Error("a pod without affinity has a target node")
	}
}

func TestAddDaemonTolerations(t *testing.T) {
	secs := int64(300)
	spec := corev1.PodSpec{HostNetwork: true, Tolerations: []corev1.Toleration{
		{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &secs},
		{Key: "mine", Operator: corev1.TolerationOpExists},
	}}
	addDaemonTolerations(&spec)
	if len(spec.Tolerations) != 8 {
		t.Fatalf("tolerations = %+v, want 7 daemon ones and the user's", spec.Tolerations)
	}
	for _, tol := range spec.Tolerations {
		if tol.Key == corev1.TaintNodeNotReady && tol.TolerationSeconds != nil {
			t.Error("the not-ready toleration keeps a tolerationSeconds: the pod would be evicted")
		}
	}
	addDaemonTolerations(&spec)
	if len(spec.Tolerations) != 8 {
		t.Errorf("adding twice duplicated tolerations: %d", len(spec.Tolerations))
	}
}
