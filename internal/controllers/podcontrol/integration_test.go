package podcontrol_test

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/navarch/navarch/internal/controllers/podcontrol"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

var rsKind = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")

func TestControlAndClaimAgainstServer(t *testing.T) {
	env := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cc, _ := env.ControllerContext(t, ctx)
	ns := env.Namespace(t, "claims")
	c := env.Client
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.ReplicaSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
			},
		},
	}
	rs, err := c.AppsV1().ReplicaSets(ns).Create(ctx, rs, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctl := &podcontrol.Control{Client: c, Recorder: cc.Recorder("replicaset-controller")}

	owned, err := ctl.CreateFromTemplate(ctx, &rs.Spec.Template, rs, podcontrol.ControllerRef(rs, rsKind))
	if err != nil {
		t.Fatal(err)
	}
	if metav1.GetControllerOf(owned) == nil || metav1.GetControllerOf(owned).UID != rs.UID {
		t.Fatalf("created pod is not controlled by the ReplicaSet: %+v", owned.OwnerReferences)
	}
	noLabels := rs.Spec.Template.DeepCopy()
	noLabels.Labels = nil
	if _, err := ctl.CreateFromTemplate(ctx, noLabels, rs, podcontrol.ControllerRef(rs, rsKind)); err == nil {
		t.Error("a pod without labels was created")
	}

	orphan := mkPod(t, c, ns, "orphan", map[string]string{"app": "web"}, nil)
	strayed := mkPod(t, c, ns, "strayed", map[string]string{"app": "other"}, []metav1.OwnerReference{*podcontrol.ControllerRef(rs, rsKind)})
	other := *podcontrol.ControllerRef(&metav1.ObjectMeta{Name: "x", UID: "another-owner"}, rsKind)
	foreign := mkPod(t, c, ns, "foreign", map[string]string{"app": "web"}, []metav1.OwnerReference{other})
	stranger := mkPod(t, c, ns, "stranger", map[string]string{"app": "other"}, nil)

	sel, _ := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	m := &podcontrol.RefManager{Owner: rs, GVK: rsKind, Selector: sel,
		CanAdopt: podcontrol.RecheckOwner(func(ctx context.Context) (metav1.Object, error) {
			return c.AppsV1().ReplicaSets(ns).Get(ctx, rs.Name, metav1.GetOptions{})
		}, rs.UID)}
	claimed, err := m.ClaimPods(ctx, c, []*corev1.Pod{owned, orphan, strayed, foreign, stranger})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(claimed); len(got) != 2 || got[0] != owned.Name || got[1] != "orphan" {
		t.Fatalf("claimed %v, want [%s orphan]", got, owned.Name)
	}
	assertController(t, c, ns, "orphan", rs.UID)
	assertController(t, c, ns, "strayed", "")
	assertController(t, c, ns, "foreign", "another-owner")
	assertController(t, c, ns, "stranger", "")

	// An owner replaced under the same name adopts nothing.
	stale := &podcontrol.RefManager{Owner: rs.DeepCopy(), GVK: rsKind, Selector: sel,
		CanAdopt: podcontrol.RecheckOwner(func(ctx context.Context) (metav1.Object, error) {
			return c.AppsV1().ReplicaSets(ns).Get(ctx, rs.Name, metav1.GetOptions{})
		}, "an-older-uid")}
	stale.Owner.SetUID("an-older-uid")
	orphan2 := mkPod(t, c, ns, "orphan2", map[string]string{"app": "web"}, nil)
	if got, err := stale.ClaimPods(ctx, c, []*corev1.Pod{orphan2}); err == nil || len(got) != 0 {
		t.Errorf("a stale owner adopted %v (err %v)", names(got), err)
	}
	assertController(t, c, ns, "orphan2", "")

	// A dying owner neither adopts nor releases.
	dying := rs.DeepCopy()
	dying.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	back, _ := c.CoreV1().Pods(ns).Get(ctx, "orphan", metav1.GetOptions{})
	back.Labels = map[string]string{"app": "moved"}
	dm := &podcontrol.RefManager{Owner: dying, GVK: rsKind, Selector: sel}
	if got, err := dm.ClaimPods(ctx, c, []*corev1.Pod{orphan2, back}); err != nil || len(got) != 0 {
		t.Errorf("a dying owner claimed %v (err %v)", names(got), err)
	}
	assertController(t, c, ns, "orphan2", "")
	assertController(t, c, ns, "orphan", rs.UID)

	if err := ctl.Delete(ctx, owned, rs); err != nil {
		t.Fatal(err)
	}
	if err := ctl.Delete(ctx, owned, rs); !apierrors.IsNotFound(err) {
		t.Errorf("second delete: %v, want NotFound", err)
	}
	// A pod recreated under the same name is not deleted by a stale UID.
	again := mkPod(t, c, ns, orphan2.Name+"-x", map[string]string{"app": "web"}, nil)
	staleCopy := again.DeepCopy()
	staleCopy.UID = "not-this-one"
	if err := ctl.Delete(ctx, staleCopy, rs); !apierrors.IsNotFound(err) {
		t.Errorf("delete with a stale UID: %v, want NotFound", err)
	}
	if _, err := c.CoreV1().Pods(ns).Get(ctx, again.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("the newer pod was deleted: %v", err)
	}

	for _, reason := range []string{podcontrol.ReasonSuccessfulCreate, podcontrol.ReasonSuccessfulDelete} {
		testserver.Eventually(t, 10*time.Second, reason+" event", func() (bool, error) {
			evs, err := c.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: fields.Set{"reason": reason, "involvedObject.name": "web"}.String()})
			return err == nil && len(evs.Items) > 0, err
		})
	}
}

func mkPod(t *testing.T, c kubernetes.Interface, ns, name string, l map[string]string, refs []metav1.OwnerReference) *corev1.Pod {
	t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l, OwnerReferences: refs},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	out, err := c.CoreV1().Pods(ns).Create(context.Background(), p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func assertController(t *testing.T, c kubernetes.Interface, ns, name string, uid types.UID) {
	t.Helper()
	p, err := c.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref := metav1.GetControllerOf(p)
	switch {
	case uid == "" && ref != nil:
		t.Errorf("pod %s is controlled by %s, want an orphan", name, ref.UID)
	case uid != "" && (ref == nil || ref.UID != uid):
		t.Errorf("pod %s controller = %+v, want uid %s", name, ref, uid)
	}
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}
