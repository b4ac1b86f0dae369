// Package defaultbinder is the DefaultBinder plugin: it binds a pod by
// POSTing a Binding to the pod's binding subresource, as upstream does. It
// writes nothing else.
package defaultbinder

import (
	"context"
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// Name of the plugin.
const Name = "DefaultBinder"

// DefaultBinder binds through pods/binding.
type DefaultBinder struct{ h framework.Handle }

// New builds the plugin; it takes no arguments.
func New(args json.RawMessage, h framework.Handle) (framework.Plugin, error) {
	return &DefaultBinder{h: h}, framework.DecodeArgs(args, &struct{}{})
}

// Name implements framework.Plugin.
func (*DefaultBinder) Name() string { return Name }

// Bind implements framework.BindPlugin. The UID precondition keeps a
// re-created pod of the same name from being bound by mistake.
func (b *DefaultBinder) Bind(ctx context.Context, _ *framework.CycleState, pod *corev1.Pod, node string) *framework.Status {
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}
	if err := b.h.ClientSet().CoreV1().Pods(pod.Namespace).Bind(ctx, binding, metav1.CreateOptions{}); err != nil {
		return framework.AsStatus(err)
	}
	return nil
}
