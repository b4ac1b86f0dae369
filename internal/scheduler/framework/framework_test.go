package framework_test

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/navarch/navarch/internal/scheduler/config"
	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/plugins"
	"github.com/navarch/navarch/internal/scheduler/schedtest"
)

func TestFitErrorMessage(t *testing.T) {
	m := framework.NodeToStatus{Map: map[string]*framework.Status{
		"a": framework.NewStatus(framework.Unschedulable, "Insufficient cpu"),
		"b": framework.NewStatus(framework.UnschedulableAndUnresolvable, "node(s) didn't match Pod's node affinity/selector"),
		"c": framework.NewStatus(framework.UnschedulableAndUnresolvable, "node(s) didn't match Pod's node affinity/selector"),
	}}
	e := &framework.FitError{NumAllNodes: 3, Diagnosis: framework.Diagnosis{NodeToStatus: m}}
	if got, want := e.Error(), "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector."; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	e.Diagnosis.PostFilterMsg = "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
	if got := e.Error(); !strings.HasSuffix(got, "selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.") {
		t.Errorf("with preemption: %q", got)
	}
	pre := &framework.FitError{NumAllNodes: 2, Diagnosis: framework.Diagnosis{PreFilterMsg: "node(s) didn't satisfy plugin NodeAffinity",
		NodeToStatus: framework.NodeToStatus{Absent: framework.NewStatus(framework.UnschedulableAndUnresolvable, "x")}}}
	if got := pre.Error(); got != "0/2 nodes are available: node(s) didn't satisfy plugin NodeAffinity." {
		t.Errorf("prefilter: %q", got)
	}
}

func TestPodRequests(t *testing.T) {
	type req = map[corev1.ResourceName]string
	tests := []struct {
		name     string
		pod      *corev1.Pod
		cpu, mem int64
		nonZero  int64
	}{
		{"sum of containers", schedtest.MakePod().Req(req{"cpu": "1"}).Req(req{"cpu": "500m", "memory": "1Gi"}).Obj(), 1500, 1 << 30, 1500},
		{"init peak wins", schedtest.MakePod().Req(req{"cpu": "1"}).InitReq(req{"cpu": "3"}).Obj(), 3000, 0, 3000},
		{"sidecar adds to steady state", schedtest.MakePod().Req(req{"cpu": "1"}).SidecarReq(req{"cpu": "1"}).InitReq(req{"cpu": "1500m"}).Obj(), 2500, 0, 2500},
		{"best effort", schedtest.MakePod().Container().Obj(), 0, 0, framework.DefaultMilliCPURequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := framework.PodRequests(tt.pod, false)
			nz := framework.PodRequests(tt.pod, true)
			if r.MilliCPU != tt.cpu || r.Memory != tt.mem || nz.MilliCPU != tt.nonZero {
				t.Errorf("requests cpu=%d mem=%d nonzero cpu=%d", r.MilliCPU, r.Memory, nz.MilliCPU)
			}
		})
	}
}

func TestProfileExpansion(t *testing.T) {
	build := func(yaml string) (*framework.Framework, error) {
		conf, err := config.Parse([]byte(yaml))
		if err != nil {
			return nil, err
		}
		return framework.New(plugins.NewRegistry(), conf.Profiles[0].Resolve(), framework.Options{Parallelism: 1})
	}
	f, err := build("")
	if err != nil {
		t.Fatal(err)
	}
	got := f.ListPlugins()
	if strings.Join(got["filter"], ",") != "NodeUnschedulable,NodeName,TaintToleration,NodeAffinity,NodePorts,NodeResourcesFit,PodTopologySpread,InterPodAffinity" {
		t.Errorf("filters: %v", got["filter"])
	}
	if w := f.ScoreWeights(); w["TaintToleration"] != 3 || w["NodeAffinity"] != 2 || w["NodeResourcesFit"] != 1 || w["InterPodAffinity"] != 2 {
		t.Errorf("weights: %v", w)
	}
	head := "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- plugins:\n"
	f, err = build(head + "    score:\n      disabled: [{name: '*'}]\n      enabled: [{name: NodeResourcesFit, weight: 5}]\n    filter:\n      disabled: [{name: NodePorts}]\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.ListPlugins(); len(got["score"]) != 1 || strings.Contains(strings.Join(got["filter"], ","), "NodePorts") || f.ScoreWeights()["NodeResourcesFit"] != 5 {
		t.Errorf("custom: %v %v", got, f.ScoreWeights())
	}
	for _, bad := range []string{
		head + "    filter:\n      enabled: [{name: Nope}]\n",
		head + "    filter:\n      enabled: [{name: ImageLocality}]\n",
		head + "    filter:\n      enabled: [{name: DefaultBinder}]\n",
		head + "    bind:\n      disabled: [{name: '*'}]\n",
	} {
		if _, err := build(bad); err == nil {
			t.Errorf("accepted:\n%s", bad)
		}
	}
	if _, err := build(head + "    filter:\n      disabled: [{name: VolumeBinding}]\n"); err != nil {
		t.Errorf("disabling an upstream-only plugin: %v", err)
	}
	args, _ := json.Marshal(map[string]any{"scoringStrategy": map[string]any{"type": "Nope"}})
	if _, err := build("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args: " + string(args) + "\n"); err == nil {
		t.Error("bad plugin args accepted")
	}
}
