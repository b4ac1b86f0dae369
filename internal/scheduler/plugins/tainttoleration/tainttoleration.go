// Package tainttoleration is the TaintToleration plugin: a node's
// NoSchedule and NoExecute taints keep off pods that do not tolerate them,
// and nodes with fewer untolerated PreferNoSchedule taints score higher.
// Evicting running pods for NoExecute is the node lifecycle controller's
// job, not this plugin's.
package tainttoleration

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// Name of the plugin.
const Name = "TaintToleration"

const stateKey framework.StateKey = "PreScore" + Name

// TaintToleration filters and scores on taints.
type TaintToleration struct{}

// New builds the plugin; it takes no arguments.
func New(args json.RawMessage, _ framework.Handle) (framework.Plugin, error) {
	return &TaintToleration{}, framework.DecodeArgs(args, &struct{}{})
}

// Name implements framework.Plugin.
func (*TaintToleration) Name() string { return Name }

// Filter rejects a node with an untolerated NoSchedule or NoExecute taint,
// naming the first such taint as upstream does.
func (*TaintToleration) Filter(_ context.Context, _ *framework.CycleState, pod *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
	taints := ni.Taints()
	if len(taints) == 0 {
		return nil
	}
	taint, ok := framework.FindUntoleratedTaint(taints, pod.Spec.Tolerations, func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
	})
	if !ok {
		return nil
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable,
		fmt.Sprintf("node(s) had untolerated taint {%s: %s}", taint.Key, taint.Value))
}

type preScoreState struct{ tolerations []corev1.Toleration }

func (s *preScoreState) Clone() framework.StateData { return s }

// PreScore keeps the tolerations that can match PreferNoSchedule taints.
func (*TaintToleration) PreScore(_ context.Context, state *framework.CycleState, pod *corev1.Pod, _ []*framework.NodeInfo) *framework.Status {
	var tols []corev1.Toleration
	for _, t := range pod.Spec.Tolerations {
		if t.Effect == "" || t.Effect == corev1.TaintEffectPreferNoSchedule {
			tols = append(tols, t)
		}
	}
	state.Write(stateKey, &preScoreState{tolerations: tols})
	return nil
}

// Score counts the untolerated PreferNoSchedule taints (fewer is better
// once normalized).
func (*TaintToleration) Score(_ context.Context, state *framework.CycleState, _ *corev1.Pod, ni *framework.NodeInfo) (int64, *framework.Status) {
	d, err := state.Read(stateKey)
	if err != nil {
		return 0, framework.AsStatus(fmt.Errorf("reading %q: %w", stateKey, err))
	}
	tols := d.(*preScoreState).tolerations
	var n int64
	taints := ni.Taints()
	for i := range taints {
		t := &taints[i]
		if t.Effect == corev1.TaintEffectPreferNoSchedule && !framework.Tolerates(tols, t) {
			n++
		}
	}
	return n, nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (p *TaintToleration) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore maps counts to [0, 100], reversed.
func (*TaintToleration) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *corev1.Pod, scores framework.NodeScoreList) *framework.Status {
	framework.DefaultNormalizeScore(framework.MaxNodeScore, true, scores)
	return nil
}

// EventsToRegister implements framework.EnqueueExtensions.
func (*TaintToleration) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.NodeResource, ActionType: framework.Add | framework.UpdateNodeTaint}}
}
