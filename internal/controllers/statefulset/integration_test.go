package statefulset_test

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/navarch/navarch/internal/controllers/podcontrol/podtest"
	"github.com/navarch/navarch/internal/controllers/statefulset"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

const wait = 15 * time.Second

type h struct {
	t       *testing.T
	ctx     context.Context
	c       kubernetes.Interface
	ns      string
	env     *testserver.Env
	kubelet *podtest.Kubelet

	mu   sync.Mutex
	held map[string]bool // pods the stand-in kubelet keeps not ready
}

func TestStatefulSetController(t *testing.T) {
	env := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cc, start := env.ControllerContext(t, ctx)
	ctl, err := statefulset.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	start()
	go ctl.Run(ctx)
	x := &h{t: t, ctx: ctx, c: env.Client, ns: env.Namespace(t, "stateful"), env: env, held: map[string]bool{}}
	x.kubelet = podtest.StartKubelet(t, env.Client, x.ns, func(p *corev1.Pod) bool {
		x.mu.Lock()
		defer x.mu.Unlock()
		return x.held[p.Name]
	})

	t.Run("scale up in order", func(t *testing.T) { x.t = t; testScaleUp(x) })
	t.Run("scale down in reverse order", func(t *testing.T) { x.t = t; testScaleDown(x) })
	t.Run("rolling update with partition", func(t *testing.T) { x.t = t; testPartition(x) })
	t.Run("parallel and claim retention", func(t *testing.T) { x.t = t; testParallelRetention(x) })
}

func (x *h) hold(names ...string) {
	x.mu.Lock()
	for _, n := range names {
		x.held[n] = true
	}
	x.mu.Unlock()
}

func (x *h) release(name string) {
	x.mu.Lock()
	delete(x.held, name)
	x.mu.Unlock()
	x.kubelet.Recheck()
}

func (x *h) create(name string, replicas int32, mutate func(*appsv1.StatefulSet)) {
	x.t.Helper()
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: x.ns},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To(replicas), ServiceName: name,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox:1"}}},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}},
		},
	}
	mutate(s)
	if _, err := x.c.AppsV1().StatefulSets(x.ns).Create(x.ctx, s, metav1.CreateOptions{}); err != nil {
		x.t.Fatal(err)
	}
}

func (x *h) update(name string, mutate func(*appsv1.StatefulSet)) {
	x.t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s, err := x.c.AppsV1().StatefulSets(x.ns).Get(x.ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		mutate(s)
		_, err = x.c.AppsV1().StatefulSets(x.ns).Update(x.ctx, s, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		x.t.Fatal(err)
	}
}

// pods returns the set's live pods by name.
func (x *h) pods(name string) map[string]*corev1.Pod {
	x.t.Helper()
	l, err := x.c.CoreV1().Pods(x.ns).List(x.ctx, metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		x.t.Fatal(err)
	}
	out := map[string]*corev1.Pod{}
	for i := range l.Items {
		if l.Items[i].DeletionTimestamp == nil {
			out[l.Items[i].Name] = &l.Items[i]
		}
	}
	return out
}

func (x *h) waitPods(name string, want ...string) map[string]*corev1.Pod {
	x.t.Helper()
	var got map[string]*corev1.Pod
	testserver.Eventually(x.t, wait, fmt.Sprintf("pods %v", want), func() (bool, error) {
		got = x.pods(name)
		if len(got) != len(want) {
			return false, nil
		}
		for _, n := range want {
			if got[n] == nil {
				return false, nil
			}
		}
		return true, nil
	})
	return got
}

func (x *h) waitStatus(name, what string, cond func(*appsv1.StatefulSetStatus) bool) *appsv1.StatefulSet {
	x.t.Helper()
	var s *appsv1.StatefulSet
	testserver.Eventually(x.t, wait, name+" status: "+what, func() (bool, error) {
		var err error
		s, err = x.c.AppsV1().StatefulSets(x.ns).Get(x.ctx, name, metav1.GetOptions{})
		return err == nil && s.Status.ObservedGeneration == s.Generation && cond(&s.Status), err
	})
	return s
}

func (x *h) claim(name string) *corev1.PersistentVolumeClaim {
	x.t.Helper()
	c, err := x.c.CoreV1().PersistentVolumeClaims(x.ns).Get(x.ctx, name, metav1.GetOptions{})
	if err != nil {
		x.t.Fatalf("claim %s: %v", name, err)
	}
	return c
}

func testScaleUp(x *h) {
	x.create("web", 0, func(*appsv1.StatefulSet) {})
	x.waitStatus("web", "observed at 0", func(s *appsv1.StatefulSetStatus) bool { return s.Replicas == 0 && s.UpdateRevision != "" })
	x.hold("web-0", "web-1", "web-2")
	x.update("web", func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](3) })
	for i := range 3 {
		name := fmt.Sprintf("web-%d", i)
		want := make([]string, i+1)
		for j := range want {
			want[j] = fmt.Sprintf("web-%d", j)
		}
		pods := x.waitPods("web", want...)
		// The controller has seen the new pod and must now wait for it.
		x.waitStatus("web", fmt.Sprintf("%d replicas", i+1), func(s *appsv1.StatefulSetStatus) bool { return s.Replicas == int32(i+1) })
		if n := len(x.pods("web")); n != i+1 {
			x.t.Fatalf("%d pods while %s is not ready, want %d", n, name, i+1)
		}
		p := pods[name]
		if p.Spec.Hostname != name || p.Spec.Subdomain != "web" || p.Labels[appsv1.StatefulSetPodNameLabel] != name ||
			p.Labels[appsv1.PodIndexLabel] != fmt.Sprint(i) || p.Labels[appsv1.ControllerRevisionHashLabelKey] == "" {
			x.t.Errorf("pod %s identity: hostname %q subdomain %q labels %v", name, p.Spec.Hostname, p.Spec.Subdomain, p.Labels)
		}
		claim := fmt.Sprintf("data-web-%d", i)
		if len(p.Spec.Volumes) == 0 || p.Spec.Volumes[0].PersistentVolumeClaim == nil || p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != claim {
			x.t.Errorf("pod %s volumes = %+v, want claim %s", name, p.Spec.Volumes, claim)
		}
		if c := x.claim(claim); c.Labels["app"] != "web" || len(c.OwnerReferences) != 0 {
			x.t.Errorf("claim %s: labels %v owners %v", claim, c.Labels, c.OwnerReferences)
		}
		x.release(name)
	}
	s := x.waitStatus("web", "3 ready", func(s *appsv1.StatefulSetStatus) bool {
		return s.Replicas == 3 && s.ReadyReplicas == 3 && s.AvailableReplicas == 3 && s.CurrentReplicas == 3 && s.UpdatedReplicas == 3
	})
	if s.Status.CurrentRevision == "" || s.Status.CurrentRevision != s.Status.UpdateRevision {
		x.t.Errorf("revisions: current %q update %q", s.Status.CurrentRevision, s.Status.UpdateRevision)
	}
}

func testScaleDown(x *h) {
	w, err := x.c.CoreV1().Pods(x.ns).Watch(x.ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		x.t.Fatal(err)
	}
	defer w.Stop()
	x.update("web", func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](1) })
	var deleted []string
	testserver.Eventually(x.t, wait, "web-2 and web-1 deleted", func() (bool, error) {
		for {
			select {
			case ev := <-w.ResultChan():
				if p, ok := ev.Object.(*corev1.Pod); ok && ev.Type == watch.Deleted {
					deleted = append(deleted, p.Name)
				}
				continue
			default:
			}
			return len(deleted) >= 2, nil
		}
	})
	if !slices.Equal(deleted, []string{"web-2", "web-1"}) {
		x.t.Errorf("deletion order %v, want [web-2 web-1]", deleted)
	}
	x.waitPods("web", "web-0")
	for _, c := range []string{"data-web-1", "data-web-2"} {
		x.claim(c) // kept: the retention policy is Retain
	}
	x.waitStatus("web", "1 replica", func(s *appsv1.StatefulSetStatus) bool { return s.Replicas == 1 && s.ReadyReplicas == 1 })
}

func testPartition(x *h) {
	before := x.claim("data-web-1").UID
	x.update("web", func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](3) })
	x.waitStatus("web", "3 ready", func(s *appsv1.StatefulSetStatus) bool { return s.ReadyReplicas == 3 })
	if x.claim("data-web-1").UID != before {
		x.t.Error("scaling up again made a new claim instead of reusing data-web-1")
	}
	old := x.waitStatus("web", "settled", func(s *appsv1.StatefulSetStatus) bool { return s.CurrentReplicas == 3 }).Status.CurrentRevision
	x.update("web", func(s *appsv1.StatefulSet) {
		s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](2)}
		s.Spec.Template.Spec.Containers[0].Image = "busybox:2"
	})
	s := x.waitStatus("web", "web-2 updated", func(s *appsv1.StatefulSetStatus) bool {
		return s.UpdatedReplicas == 1 && s.ReadyReplicas == 3 && s.CurrentReplicas == 2
	})
	pods := x.pods("web")
	for name, want := range map[string]string{"web-0": old, "web-1": old, "web-2": s.Status.UpdateRevision} {
		if got := pods[name].Labels[appsv1.ControllerRevisionHashLabelKey]; got != want {
			x.t.Errorf("%s runs revision %q, want %q", name, got, want)
		}
	}
	if s.Status.CurrentRevision != old || s.Status.UpdateRevision == old {
		x.t.Errorf("partitioned: current %q update %q (old %q)", s.Status.CurrentRevision, s.Status.UpdateRevision, old)
	}
	// Lowering the partition updates the rest, highest ordinal first.
	// (Watch from the list's version: an unversioned watch replays the
	// existing pods as ADDED.)
	l, err := x.c.CoreV1().Pods(x.ns).List(x.ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		x.t.Fatal(err)
	}
	w, err := x.c.CoreV1().Pods(x.ns).Watch(x.ctx, metav1.ListOptions{LabelSelector: "app=web", ResourceVersion: l.ResourceVersion})
	if err != nil {
		x.t.Fatal(err)
	}
	defer w.Stop()
	x.update("web", func(s *appsv1.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](0) })
	s = x.waitStatus("web", "rolled out", func(s *appsv1.StatefulSetStatus) bool {
		return s.CurrentRevision == s.UpdateRevision && s.CurrentReplicas == 3 && s.ReadyReplicas == 3
	})
	var added []string
	for len(w.ResultChan()) > 0 || len(added) < 2 {
		ev := <-w.ResultChan()
		if p, ok := ev.Object.(*corev1.Pod); ok && ev.Type == watch.Added {
			added = append(added, p.Name)
		}
	}
	if !slices.Equal(added, []string{"web-1", "web-0"}) {
		x.t.Errorf("update order %v, want [web-1 web-0]", added)
	}
	for name, p := range x.pods("web") {
		if p.Spec.Containers[0].Image != "busybox:2" {
			x.t.Errorf("%s still runs %s", name, p.Spec.Containers[0].Image)
		}
	}
	x.kubectlUndo()
}

// kubectlUndo rolls the set back with the real kubectl.
func (x *h) kubectlUndo() {
	x.t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		x.t.Log("kubectl not installed: skipping rollout history/undo")
		return
	}
	run := func(args ...string) string {
		args = append([]string{"--kubeconfig", x.env.Server.Kubeconfig, "-n", x.ns}, args...)
		out, err := exec.CommandContext(x.ctx, "kubectl", args...).CombinedOutput()
		if err != nil {
			x.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if hist := run("rollout", "history", "statefulset/web"); !strings.Contains(hist, "\n1 ") || !strings.Contains(hist, "\n2 ") {
		x.t.Errorf("kubectl rollout history:\n%s", hist)
	}
	if out := run("rollout", "undo", "statefulset/web"); !strings.Contains(out, "rolled back") {
		x.t.Errorf("kubectl rollout undo: %s", out)
	}
	x.waitStatus("web", "rolled back", func(s *appsv1.StatefulSetStatus) bool {
		return s.CurrentRevision == s.UpdateRevision && s.UpdatedReplicas == 3 && s.ReadyReplicas == 3
	})
	for name, p := range x.pods("web") {
		if p.Spec.Containers[0].Image != "busybox:1" {
			x.t.Errorf("after undo %s runs %s", name, p.Spec.Containers[0].Image)
		}
	}
	if out := run("rollout", "status", "statefulset/web", "--timeout=10s"); !strings.Contains(out, "roll out complete") {
		x.t.Errorf("kubectl rollout status: %s", out)
	}
}

func testParallelRetention(x *h) {
	x.hold("db-0", "db-1", "db-2")
	x.create("db", 3, func(s *appsv1.StatefulSet) {
		s.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
		s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
			WhenScaled:  appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
		}
	})
	// Parallel: all three exist though none is ready.
	x.waitPods("db", "db-0", "db-1", "db-2")
	db, err := x.c.AppsV1().StatefulSets(x.ns).Get(x.ctx, "db", metav1.GetOptions{})
	if err != nil {
		x.t.Fatal(err)
	}
	if refs := x.claim("data-db-2").OwnerReferences; len(refs) != 1 || refs[0].UID != db.UID {
		x.t.Errorf("whenDeleted: Delete claim owners = %+v, want the set", refs)
	}
	doomed := x.pods("db")["db-2"]
	// A scaled-away pod's claim is handed to the pod, for the garbage
	// collector to delete with it (it does not run here).
	x.update("db", func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](2) })
	testserver.Eventually(x.t, wait, "db-2 gone and its claim owned by it", func() (bool, error) {
		_, err := x.c.CoreV1().Pods(x.ns).Get(x.ctx, "db-2", metav1.GetOptions{})
		refs := x.claim("data-db-2").OwnerReferences
		return apierrors.IsNotFound(err) && slices.ContainsFunc(refs, func(r metav1.OwnerReference) bool {
			return r.Kind == "Pod" && r.UID == doomed.UID
		}), nil
	})
	if refs := x.claim("data-db-1").OwnerReferences; len(refs) != 1 || refs[0].Kind != "StatefulSet" {
		x.t.Errorf("a kept replica's claim owners = %+v, want only the set", refs)
	}
}
