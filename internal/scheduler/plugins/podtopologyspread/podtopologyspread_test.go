package podtopologyspread

import (
	"context"
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/schedtest"
)

const zone = corev1.LabelTopologyZone
const host = corev1.LabelHostname

var foo = map[string]string{"app": "foo"}

func nodes() []*corev1.Node {
	return []*corev1.Node{
		schedtest.MakeNode().Name("a1").Zone("a").Obj(),
		schedtest.MakeNode().Name("a2").Zone("a").Obj(),
		schedtest.MakeNode().Name("b1").Zone("b").Obj(),
		schedtest.MakeNode().Name("nozone").Obj(),
	}
}

func existing() []*corev1.Pod {
	return []*corev1.Pod{
		schedtest.MakePod().Name("e1").Labels(foo).Node("a1").Obj(),
		schedtest.MakePod().Name("e2").Labels(foo).Node("a1").Obj(),
		schedtest.MakePod().Name("e3").Labels(foo).Node("b1").Obj(),
		schedtest.MakePod().Name("other-ns").Namespace("x").Labels(foo).Node("b1").Obj(),
		schedtest.MakePod().Name("gone").Labels(foo).Node("b1").Terminating().Obj(),
	}
}

func newPlugin(t *testing.T, h *schedtest.Handle, args string) *PodTopologySpread {
	t.Helper()
	var raw json.RawMessage
	if args != "" {
		raw = json.RawMessage(args)
	}
	p, err := New(raw, h)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*PodTopologySpread)
}

func TestFilter(t *testing.T) {
	bad, missing := framework.Unschedulable, framework.UnschedulableAndUnresolvable
	tests := []struct {
		name string
		pod  *corev1.Pod
		want map[string]framework.Code
		skip bool
	}{
		{name: "no constraints skips", pod: schedtest.MakePod().Labels(foo).Obj(), skip: true},
		// zone a has 2, zone b 1 (other namespaces and terminating pods do
		// not count): only b keeps the skew at 1.
		{name: "zone maxSkew 1", pod: schedtest.MakePod().Labels(foo).SpreadConstraint(1, zone, corev1.DoNotSchedule, foo).Obj(),
			want: map[string]framework.Code{"a1": bad, "a2": bad, "nozone": missing}},
		{name: "zone maxSkew 2", pod: schedtest.MakePod().Labels(foo).SpreadConstraint(2, zone, corev1.DoNotSchedule, foo).Obj(),
			want: map[string]framework.Code{"nozone": missing}},
		{name: "pod outside its selector", pod: schedtest.MakePod().SpreadConstraint(1, zone, corev1.DoNotSchedule, foo).Obj(),
			want: map[string]framework.Code{"nozone": missing}},
		// a2 and nozone have 0, a1 2, b1 1.
		{name: "hostname maxSkew 1", pod: schedtest.MakePod().Labels(foo).SpreadConstraint(1, host, corev1.DoNotSchedule, foo).Obj(),
			want: map[string]framework.Code{"a1": bad, "b1": bad}},
		{name: "minDomains above the domains", pod: schedtest.MakePod().Labels(foo).SpreadConstraint(1, zone, corev1.DoNotSchedule, foo).MinDomains(3).Obj(),
			want: map[string]framework.Code{"a1": bad, "a2": bad, "b1": bad, "nozone": missing}},
		// Only zone a nodes count under the node selector: min is zone
		// a's 2, so a accepts the pod.
		{name: "node affinity policy", pod: schedtest.MakePod().Labels(foo).NodeSelector(map[string]string{zone: "a"}).SpreadConstraint(1, zone, corev1.DoNotSchedule, foo).Obj(),
			want: map[string]framework.Code{"nozone": missing}},
		{name: "ScheduleAnyway does not filter", pod: schedtest.MakePod().Labels(foo).SpreadConstraint(1, zone, corev1.ScheduleAnyway, foo).Obj(), skip: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := schedtest.NewHandle(existing(), nodes())
			p := newPlugin(t, h, "")
			state := framework.NewCycleState()
			_, s := p.PreFilter(context.Background(), state, tt.pod)
			if s.IsSkip() != tt.skip {
				t.Fatalf("PreFilter = %v, want skip %v", s, tt.skip)
			}
			if tt.skip {
				return
			}
			for _, ni := range h.Snapshot.List() {
				got := p.Filter(context.Background(), state, tt.pod, ni)
				if want := tt.want[ni.Node().Name]; got.Code() != want {
					t.Errorf("node %s: %v, want %v", ni.Node().Name, got, want)
				}
			}
		})
	}
}

func TestAddPodUpdatesCounts(t *testing.T) {
	h := schedtest.NewHandle(existing(), nodes())
	p := newPlugin(t, h, "")
	pod := schedtest.MakePod().Labels(foo).SpreadConstraint(1, zone, corev1.DoNotSchedule, foo).Obj()
	state := framework.NewCycleState()
	p.PreFilter(context.Background(), state, pod)
	b1, _ := h.Snapshot.Get("b1")
	p.AddPod(context.Background(), state, pod, framework.NewPodInfo(schedtest.MakePod().Name("n").Labels(foo).Node("b1").Obj()), b1)
	// a=2, b=2: both zones take one more.
	a1, _ := h.Snapshot.Get("a1")
	if s := p.Filter(context.Background(), state, pod, a1); !s.IsSuccess() {
		t.Errorf("a1 after AddPod: %v", s)
	}
}

func TestScore(t *testing.T) {
	h := schedtest.NewHandle(existing(), nodes())
	p := newPlugin(t, h, "")
	pod := schedtest.MakePod().Labels(foo).SpreadConstraint(1, host, corev1.ScheduleAnyway, foo).Obj()
	state := framework.NewCycleState()
	list := h.Snapshot.List()
	if s := p.PreScore(context.Background(), state, pod, list); !s.IsSuccess() {
		t.Fatal(s)
	}
	got := map[string]int64{}
	var scores framework.NodeScoreList
	for _, ni := range list {
		s, _ := p.Score(context.Background(), state, pod, ni)
		scores = append(scores, framework.NodeScore{Name: ni.Node().Name, Score: s})
	}
	p.NormalizeScore(context.Background(), state, pod, scores)
	for _, s := range scores {
		got[s.Name] = s.Score
	}
	if !(got["a2"] == 100 && got["nozone"] == 100 && got["b1"] < got["a2"] && got["a1"] < got["b1"]) {
		t.Errorf("scores = %v: want emptier nodes higher", got)
	}
}

func TestSystemDefaultsFollowServices(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "default"}, Spec: corev1.ServiceSpec{Selector: foo}}
	h := schedtest.NewHandle(existing(), nodes(), svc)
	p := newPlugin(t, h, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.Informers.Start(ctx.Done())
	h.Informers.WaitForCacheSync(ctx.Done())
	state := framework.NewCycleState()
	if s := p.PreScore(ctx, state, schedtest.MakePod().Labels(foo).Obj(), h.Snapshot.List()); !s.IsSuccess() {
		t.Fatalf("pod of a Service: PreScore = %v, want defaults applied", s)
	}
	if s := p.PreScore(ctx, framework.NewCycleState(), schedtest.MakePod().Label("app", "lonely").Obj(), h.Snapshot.List()); !s.IsSkip() {
		t.Fatalf("pod of no Service: PreScore = %v, want Skip", s)
	}
}

func TestArgs(t *testing.T) {
	if _, err := New(json.RawMessage(`{"defaultingType":"List","defaultConstraints":[{"maxSkew":1,"topologyKey":"zone","whenUnsatisfiable":"ScheduleAnyway"}]}`), nil); err != nil {
		t.Errorf("valid List args: %v", err)
	}
	for _, a := range []string{`{"defaultingType":"Other"}`, `{"defaultConstraints":[{"maxSkew":1,"topologyKey":"z","whenUnsatisfiable":"ScheduleAnyway"}]}`,
		`{"defaultingType":"List","defaultConstraints":[{"maxSkew":1,"topologyKey":"z","whenUnsatisfiable":"ScheduleAnyway","labelSelector":{}}]}`} {
		if _, err := New(json.RawMessage(a), nil); err == nil {
			t.Errorf("args %s accepted", a)
		}
	}
}
