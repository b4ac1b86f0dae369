package deployment_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/deployment"
	"github.com/navarch/navarch/internal/controllers/podcontrol/podtest"
	"github.com/navarch/navarch/internal/controllers/replicaset"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

const wait = 30 * time.Second

// runControllers runs the ReplicaSet and Deployment controllers on env
// until the test ends.
func runControllers(t *testing.T, env *testserver.Env) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cc, start := env.ControllerContext(t, ctx)
	var ctls []controller.Controller
	for _, ctor := range []func(controller.Context) (controller.Controller, error){replicaset.New, deployment.New} {
		ctl, err := ctor(cc)
		if err != nil {
			t.Fatal(err)
		}
		ctls = append(ctls, ctl)
	}
	start()
	var wg sync.WaitGroup
	for _, ctl := range ctls {
		wg.Add(1)
		go func() { defer wg.Done(); _ = ctl.Run(ctx) }()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func ptr[T any](v T) *T { return &v }

func newDeployment(name string, n int32, image string) *appsv1.Deployment {
	l := map[string]string{"app": name}
	surge, unavail := intstr.FromString("25%"), intstr.FromString("25%")
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &n, Selector: &metav1.LabelSelector{MatchLabels: l},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavail}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image}}},
			},
		},
	}
}

func create(t *testing.T, c kubernetes.Interface, ns string, d *appsv1.Deployment) *appsv1.Deployment {
	t.Helper()
	out, err := c.AppsV1().Deployments(ns).Create(context.Background(), d, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func patch(t *testing.T, c kubernetes.Interface, ns, name string, pt types.PatchType, p string) {
	t.Helper()
	if _, err := c.AppsV1().Deployments(ns).Patch(context.Background(), name, pt, []byte(p), metav1.PatchOptions{}); err != nil {
		t.Fatalf("patch %s: %v", p, err)
	}
}

func setImage(t *testing.T, c kubernetes.Interface, ns, name, image string) {
	t.Helper()
	patch(t, c, ns, name, types.StrategicMergePatchType, fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"c","image":%q}]}}}}`, image))
}

// rolledOut is kubectl rollout status's test for success.
func rolledOut(d *appsv1.Deployment) bool {
	s := d.Status
	if d.Generation > s.ObservedGeneration {
		return false
	}
	return s.UpdatedReplicas == *d.Spec.Replicas && s.Replicas == s.UpdatedReplicas && s.AvailableReplicas == s.UpdatedReplicas
}

func waitDeployment(t *testing.T, c kubernetes.Interface, ns, name, what string, cond func(*appsv1.Deployment) bool) *appsv1.Deployment {
	t.Helper()
	var d *appsv1.Deployment
	testserver.Eventually(t, wait, what, func() (bool, error) {
		var err error
		d, err = c.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil && !cond(d) {
			err = fmt.Errorf("generation %d status %+v", d.Generation, d.Status)
		}
		return err == nil, err
	})
	return d
}

// replicaSets lists the ReplicaSets controlled by d, by revision.
func replicaSets(t *testing.T, c kubernetes.Interface, d *appsv1.Deployment) map[string]*appsv1.ReplicaSet {
	t.Helper()
	list, err := c.AppsV1().ReplicaSets(d.Namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*appsv1.ReplicaSet{}
	for i := range list.Items {
		rs := &list.Items[i]
		if ref := metav1.GetControllerOf(rs); ref != nil && ref.UID == d.UID {
			out[rs.Annotations[deployment.RevisionAnnotation]] = rs
		}
	}
	return out
}

// podImages counts the live pods matching selector by image.
func podImages(t *testing.T, c kubernetes.Interface, ns, selector string) map[string]int {
	t.Helper()
	list, err := c.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out[p.Spec.Containers[0].Image]++
		}
	}
	return out
}

// availability watches the pods of ns matching selector and tracks the
// fewest ready ones and the most live ones at any moment.
type availability struct {
	mu       sync.Mutex
	ready    map[string]bool
	minReady int
	maxLive  int
	mixed    bool // pods of two images were live at once
	images   map[string]string
}

func watchAvailability(t *testing.T, c kubernetes.Interface, ns, selector string) *availability {
	t.Helper()
	list, err := c.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	a := &availability{ready: map[string]bool{}, images: map[string]string{}}
	for i := range list.Items {
		a.observe(watch.Added, &list.Items[i])
	}
	// Count from the complete initial state, not while it was loading.
	a.minReady = 0
	for _, r := range a.ready {
		if r {
			a.minReady++
		}
	}
	w, err := c.CoreV1().Pods(ns).Watch(context.Background(), metav1.ListOptions{LabelSelector: selector, ResourceVersion: list.ResourceVersion})
	follow(t, w, err, a.observe)
	return a
}

// follow hands w's events about objects of type T to observe until the
// test ends.
func follow[T runtime.Object](t *testing.T, w watch.Interface, err error, observe func(watch.EventType, T)) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	go func() {
		for ev := range w.ResultChan() {
			if o, ok := ev.Object.(T); ok {
				observe(ev.Type, o)
			}
		}
	}()
}

func (a *availability) observe(typ watch.EventType, p *corev1.Pod) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if typ == watch.Deleted || p.DeletionTimestamp != nil {
		delete(a.ready, p.Name)
		delete(a.images, p.Name)
	} else {
		a.ready[p.Name] = podtest.IsReady(p)
		a.images[p.Name] = p.Spec.Containers[0].Image
	}
	n := 0
	for _, r := range a.ready {
		if r {
			n++
		}
	}
	a.minReady = min(a.minReady, n)
	a.maxLive = max(a.maxLive, len(a.ready))
	seen := map[string]bool{}
	for _, img := range a.images {
		seen[img] = true
	}
	if len(seen) > 1 {
		a.mixed = true
	}
}

// replicaTotal watches the ReplicaSets of ns matching selector and tracks
// the largest sum of their spec.replicas at any moment: what maxSurge
// bounds. (Pods can briefly outnumber it, as upstream's do: a ReplicaSet
// scaled down keeps its pods live until its controller deletes them.)
type replicaTotal struct {
	mu    sync.Mutex
	specs map[string]int32
	max   int32
}

func watchReplicaTotal(t *testing.T, c kubernetes.Interface, ns, selector string) *replicaTotal {
	t.Helper()
	list, err := c.AppsV1().ReplicaSets(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	r := &replicaTotal{specs: map[string]int32{}}
	for i := range list.Items {
		r.observe(watch.Added, &list.Items[i])
	}
	w, err := c.AppsV1().ReplicaSets(ns).Watch(context.Background(), metav1.ListOptions{LabelSelector: selector, ResourceVersion: list.ResourceVersion})
	follow(t, w, err, r.observe)
	return r
}

func (r *replicaTotal) observe(typ watch.EventType, rs *appsv1.ReplicaSet) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if typ == watch.Deleted {
		delete(r.specs, rs.Name)
	} else if rs.Spec.Replicas != nil {
		r.specs[rs.Name] = *rs.Spec.Replicas
	}
	var sum int32
	for _, n := range r.specs {
		sum += n
	}
	r.max = max(r.max, sum)
}

func (r *replicaTotal) peak() int32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.max
}

func (a *availability) stats() (minReady, maxLive int, mixed bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.minReady, a.maxLive, a.mixed
}

func eventMessages(t *testing.T, c kubernetes.Interface, ns, name, reason string) []string {
	t.Helper()
	evs, err := c.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{FieldSelector: "involvedObject.name=" + name + ",reason=" + reason})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs.Items {
		out = append(out, e.Message)
	}
	return out
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
