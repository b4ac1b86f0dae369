package defaultbinder

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clienttesting "k8s.io/client-go/testing"

	"github.com/navarch/navarch/internal/scheduler/schedtest"
)

func TestBind(t *testing.T) {
	h := schedtest.NewHandle(nil, nil)
	var got *corev1.Binding
	h.Client.(interface {
		PrependReactor(verb, resource string, reaction clienttesting.ReactionFunc)
	}).PrependReactor("create", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "binding" {
			return false, nil, nil
		}
		got = a.(clienttesting.CreateAction).GetObject().(*corev1.Binding)
		return true, got, nil
	})
	p, _ := New(nil, h)
	pod := schedtest.MakePod().Name("p").Namespace("ns").UID("u1").Obj()
	if s := p.(*DefaultBinder).Bind(context.Background(), nil, pod, "n1"); !s.IsSuccess() {
		t.Fatalf("Bind: %v", s)
	}
	if got == nil || got.Name != "p" || got.Namespace != "ns" || got.UID != "u1" || got.Target.Kind != "Node" || got.Target.Name != "n1" {
		t.Fatalf("binding = %+v", got)
	}
}
