package deployment_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sync/atomic"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/navarch/navarch/internal/controllers/deployment"
	"github.com/navarch/navarch/internal/controllers/podcontrol/podtest"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

func TestRollingUpdateKeepsAvailability(t *testing.T) {
	env := testserver.Start(t)
	ns := env.Namespace(t, "rolling")
	c := env.Client
	podtest.StartBindingKubelet(t, c, ns, "node-1", nil)
	runControllers(t, env)

	d := create(t, c, ns, newDeployment("web", 8, "nginx:1"))
	d = waitDeployment(t, c, ns, "web", "the first rollout", rolledOut)
	if d.Annotations[deployment.RevisionAnnotation] != "1" {
		t.Errorf("revision annotation %q, want 1", d.Annotations[deployment.RevisionAnnotation])
	}
	rs1 := replicaSets(t, c, d)["1"]
	if rs1 == nil {
		t.Fatal("no ReplicaSet with revision 1")
	}
	hash := rs1.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
	if hash == "" || rs1.Name != "web-"+hash || rs1.Spec.Selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] != hash ||
		rs1.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash {
		t.Errorf("ReplicaSet %s: labels %v selector %v", rs1.Name, rs1.Labels, rs1.Spec.Selector)
	}
	for _, typ := range []appsv1.DeploymentConditionType{appsv1.DeploymentAvailable, appsv1.DeploymentProgressing} {
		if !hasCondition(d, typ, corev1.ConditionTrue, map[appsv1.DeploymentConditionType]string{
			appsv1.DeploymentAvailable: deployment.ReasonMinAvailable, appsv1.DeploymentProgressing: deployment.ReasonNewRSAvailable}[typ]) {
			t.Errorf("conditions %+v", d.Status.Conditions)
		}
	}

	// 8 replicas at 25%: 2 may surge, 2 may be unavailable.
	avail := watchAvailability(t, c, ns, "app=web")
	total := watchReplicaTotal(t, c, ns, "app=web")
	setImage(t, c, ns, "web", "nginx:2")
	d = waitDeployment(t, c, ns, "web", "the rolling update", func(d *appsv1.Deployment) bool {
		return rolledOut(d) && d.Annotations[deployment.RevisionAnnotation] == "2"
	})
	minReady, _, _ := avail.stats()
	if minReady < 6 {
		t.Errorf("only %d ready pods at one point, want at least replicas-maxUnavailable = 6", minReady)
	}
	if peak := total.peak(); peak > 10 || peak < 8 {
		t.Errorf("ReplicaSets asked for %d pods at most, want replicas (8) to replicas+maxSurge (10)", peak)
	}
	if imgs := podImages(t, c, ns, "app=web"); imgs["nginx:2"] != 8 || len(imgs) != 1 {
		t.Errorf("pods by image %v, want 8 of nginx:2", imgs)
	}
	rss := replicaSets(t, c, d)
	if len(rss) != 2 || *rss["1"].Spec.Replicas != 0 || *rss["2"].Spec.Replicas != 8 {
		t.Errorf("ReplicaSets by revision: %v", sizes(rss))
	}
	msgs := eventMessages(t, c, ns, "web", "ScalingReplicaSet")
	if !containsPrefix(msgs, "Scaled up replica set "+rss["2"].Name+" from 0 to 2") ||
		!containsPrefix(msgs, "Scaled down replica set "+rss["1"].Name+" from 8 to 6") {
		t.Errorf("ScalingReplicaSet events %q", msgs)
	}
}

func TestRollbackAndHistoryLimit(t *testing.T) {
	env := testserver.Start(t)
	ns := env.Namespace(t, "rollback")
	c := env.Client
	podtest.StartKubelet(t, c, ns, nil)
	runControllers(t, env)

	d := newDeployment("web", 3, "nginx:1")
	d.Spec.RevisionHistoryLimit = ptr(int32(1))
	d.Annotations = map[string]string{"kubernetes.io/change-cause": "first"}
	create(t, c, ns, d)
	waitDeployment(t, c, ns, "web", "revision 1", rolledOut)
	for i, img := range []string{"nginx:2", "nginx:3"} {
		patch(t, c, ns, "web", types.MergePatchType, fmt.Sprintf(`{"metadata":{"annotations":{"kubernetes.io/change-cause":"image %s"}}}`, img))
		setImage(t, c, ns, "web", img)
		rev := fmt.Sprint(i + 2)
		d = waitDeployment(t, c, ns, "web", "revision "+rev, func(d *appsv1.Deployment) bool {
			return rolledOut(d) && d.Annotations[deployment.RevisionAnnotation] == rev
		})
	}
	// revisionHistoryLimit 1: revision 1 goes, revision 2 stays beside 3.
	var rss map[string]*appsv1.ReplicaSet
	testserver.Eventually(t, wait, "revision 1 cleaned up", func() (bool, error) {
		rss = replicaSets(t, c, d)
		return len(rss) == 2 && rss["2"] != nil && rss["3"] != nil, nil
	})
	if rss["3"].Annotations["kubernetes.io/change-cause"] != "image nginx:3" {
		t.Errorf("revision 3 without its change-cause: %v", rss["3"].Annotations)
	}

	// kubectl rollout undo: patch the template of the previous revision in.
	prev := rss["2"].Spec.Template.DeepCopy()
	delete(prev.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	tmpl, _ := json.Marshal(prev)
	p := fmt.Sprintf(`[{"op":"replace","path":"/spec/template","value":%s}]`, tmpl)
	patch(t, c, ns, "web", types.JSONPatchType, p)
	d = waitDeployment(t, c, ns, "web", "the rollback to revision 2", func(d *appsv1.Deployment) bool {
		return rolledOut(d) && d.Annotations[deployment.RevisionAnnotation] == "4"
	})
	if imgs := podImages(t, c, ns, "app=web"); imgs["nginx:2"] != 3 || len(imgs) != 1 {
		t.Errorf("pods by image %v after rollback, want 3 of nginx:2", imgs)
	}
	rss = replicaSets(t, c, d)
	if rss["4"] == nil || rss["4"].Spec.Template.Spec.Containers[0].Image != "nginx:2" ||
		rss["4"].Annotations[deployment.RevisionHistoryAnnotation] != "2" {
		t.Errorf("the reused ReplicaSet should be revision 4 with history 2: %v", sizes(rss))
	}
	testserver.Eventually(t, wait, "old revisions cleaned up", func() (bool, error) {
		rss = replicaSets(t, c, d)
		return len(rss) == 2 && rss["3"] != nil && rss["4"] != nil, nil
	})
}

func TestPauseAndResume(t *testing.T) {
	env := testserver.Start(t)
	ns := env.Namespace(t, "pause")
	c := env.Client
	podtest.StartKubelet(t, c, ns, nil)
	runControllers(t, env)

	create(t, c, ns, newDeployment("web", 2, "nginx:1"))
	d := waitDeployment(t, c, ns, "web", "the first rollout", rolledOut)
	patch(t, c, ns, "web", types.MergePatchType, `{"spec":{"paused":true}}`)
	setImage(t, c, ns, "web", "nginx:2")
	patch(t, c, ns, "web", types.MergePatchType, `{"spec":{"replicas":4}}`)
	d = waitDeployment(t, c, ns, "web", "paused, scaled to 4", func(d *appsv1.Deployment) bool {
		return d.Status.ObservedGeneration == d.Generation && d.Status.AvailableReplicas == 4 &&
			hasCondition(d, appsv1.DeploymentProgressing, corev1.ConditionUnknown, deployment.ReasonPaused)
	})
	if rss := replicaSets(t, c, d); len(rss) != 1 {
		t.Errorf("a paused Deployment started a rollout: %v", sizes(rss))
	}
	if imgs := podImages(t, c, ns, "app=web"); imgs["nginx:1"] != 4 {
		t.Errorf("pods by image %v while paused, want 4 of nginx:1", imgs)
	}
	patch(t, c, ns, "web", types.MergePatchType, `{"spec":{"paused":false}}`)
	d = waitDeployment(t, c, ns, "web", "the rollout after resume", func(d *appsv1.Deployment) bool {
		return rolledOut(d) && d.Annotations[deployment.RevisionAnnotation] == "2" &&
			hasCondition(d, appsv1.DeploymentProgressing, corev1.ConditionTrue, deployment.ReasonNewRSAvailable)
	})
	if imgs := podImages(t, c, ns, "app=web"); imgs["nginx:2"] != 4 || len(imgs) != 1 {
		t.Errorf("pods by image %v after resume, want 4 of nginx:2", imgs)
	}
}

func TestRecreate(t *testing.T) {
	env := testserver.Start(t)
	ns := env.Namespace(t, "recreate")
	c := env.Client
	podtest.StartBindingKubelet(t, c, ns, "node-1", nil)
	runControllers(t, env)

	d := newDeployment("db", 3, "postgres:16")
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	create(t, c, ns, d)
	waitDeployment(t, c, ns, "db", "the first rollout", rolledOut)
	avail := watchAvailability(t, c, ns, "app=db")
	setImage(t, c, ns, "db", "postgres:17")
	waitDeployment(t, c, ns, "db", "the recreate", func(d *appsv1.Deployment) bool {
		return rolledOut(d) && d.Annotations[deployment.RevisionAnnotation] == "2"
	})
	if _, maxLive, mixed := avail.stats(); mixed || maxLive > 3 {
		t.Errorf("old and new pods ran together (mixed %v, up to %d pods)", mixed, maxLive)
	}
	if imgs := podImages(t, c, ns, "app=db"); imgs["postgres:17"] != 3 {
		t.Errorf("pods by image %v, want 3 of postgres:17", imgs)
	}
}

func TestProgressDeadline(t *testing.T) {
	env := testserver.Start(t)
	ns := env.Namespace(t, "deadline")
	c := env.Client
	podtest.StartKubelet(t, c, ns, func(p *corev1.Pod) bool { return p.Spec.Containers[0].Image == "broken" })
	runControllers(t, env)

	d := newDeployment("web", 2, "nginx:1")
	d.Spec.ProgressDeadlineSeconds = ptr(int32(2))
	create(t, c, ns, d)
	waitDeployment(t, c, ns, "web", "the first rollout", rolledOut)
	setImage(t, c, ns, "web", "broken")
	d = waitDeployment(t, c, ns, "web", "ProgressDeadlineExceeded", func(d *appsv1.Deployment) bool {
		return hasCondition(d, appsv1.DeploymentProgressing, corev1.ConditionFalse, deployment.ReasonTimedOut)
	})
	if d.Status.AvailableReplicas < 1 || !hasCondition(d, appsv1.DeploymentAvailable, corev1.ConditionTrue, deployment.ReasonMinAvailable) {
		t.Errorf("a stuck rollout must keep the old pods available: %+v", d.Status)
	}
	// Fixing the template makes progress again.
	setImage(t, c, ns, "web", "nginx:2")
	waitDeployment(t, c, ns, "web", "the fixed rollout", func(d *appsv1.Deployment) bool {
		return rolledOut(d) && hasCondition(d, appsv1.DeploymentProgressing, corev1.ConditionTrue, deployment.ReasonNewRSAvailable)
	})
}

func TestCanaryBehindOneService(t *testing.T) {
	env := testserver.Start(t)
	ns := env.Namespace(t, "canary")
	c := env.Client
	podtest.StartKubelet(t, c, ns, nil)
	runControllers(t, env)

	track := func(name, tr, image string, n int32) *appsv1.Deployment {
		d := newDeployment(name, n, image)
		l := map[string]string{"app": "web", "track": tr}
		d.Spec.Selector.MatchLabels, d.Spec.Template.Labels = l, maps.Clone(l)
		return d
	}
	create(t, c, ns, track("web-stable", "stable", "web:1", 4))
	create(t, c, ns, track("web-canary", "canary", "web:2", 1))
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := c.CoreV1().Services(ns).Create(context.Background(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitDeployment(t, c, ns, "web-stable", "stable", rolledOut)
	waitDeployment(t, c, ns, "web-canary", "canary", rolledOut)
	if imgs := podImages(t, c, ns, "app=web"); imgs["web:1"] != 4 || imgs["web:2"] != 1 {
		t.Errorf("the Service selects %v, want 4 stable and 1 canary pods", imgs)
	}
	// Promoting the canary leaves the stable track alone until it is rolled.
	patch(t, c, ns, "web-canary", types.MergePatchType, `{"spec":{"replicas":2}}`)
	waitDeployment(t, c, ns, "web-canary", "canary scaled", func(d *appsv1.Deployment) bool {
		return rolledOut(d) && d.Status.Replicas == 2
	})
	if imgs := podImages(t, c, ns, "app=web"); imgs["web:1"] != 4 || imgs["web:2"] != 2 {
		t.Errorf("pods by image %v, want 4 stable and 2 canary", imgs)
	}
}

func TestAdoptsOrphanReplicaSet(t *testing.T) {
	env := testserver.Start(t)
	ns := env.Namespace(t, "orphans")
	c := env.Client
	podtest.StartKubelet(t, c, ns, nil)
	runControllers(t, env)

	d := newDeployment("web", 2, "nginx:2")
	orphan := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-legacy", Labels: map[string]string{"app": "web"}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr(int32(2)), Selector: d.Spec.Selector.DeepCopy(), Template: *d.Spec.Template.DeepCopy()}}
	orphan.Spec.Template.Spec.Containers[0].Image = "nginx:1"
	orphan, err := c.AppsV1().ReplicaSets(ns).Create(context.Background(), orphan, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d = create(t, c, ns, d)
	waitDeployment(t, c, ns, "web", "the rollout over the adopted ReplicaSet", rolledOut)
	got, err := c.AppsV1().ReplicaSets(ns).Get(context.Background(), "web-legacy", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ref := metav1.GetControllerOf(got); ref == nil || ref.UID != d.UID || *got.Spec.Replicas != 0 {
		t.Errorf("orphan ReplicaSet: controller %+v replicas %d, want adopted and scaled to 0", ref, *got.Spec.Replicas)
	}
}

func TestRestartMidRollout(t *testing.T) {
	env := testserver.Start(t, testserver.WithControllers(deployment.Name, "replicaset"))
	ns := env.Namespace(t, "restart")
	var holdNew atomic.Bool
	hold := func(p *corev1.Pod) bool { return holdNew.Load() && p.Spec.Containers[0].Image == "nginx:2" }
	k := podtest.StartBindingKubelet(t, env.Client, ns, "node-1", hold)

	create(t, env.Client, ns, newDeployment("web", 6, "nginx:1"))
	waitDeployment(t, env.Client, ns, "web", "the first rollout", rolledOut)
	holdNew.Store(true)
	setImage(t, env.Client, ns, "web", "nginx:2")
	waitDeployment(t, env.Client, ns, "web", "the rollout to be under way", func(d *appsv1.Deployment) bool {
		return d.Status.UpdatedReplicas > 0 && d.Status.ObservedGeneration == d.Generation
	})
	k.Stop()
	env.Restart(t)
	holdNew.Store(false)
	podtest.StartBindingKubelet(t, env.Client, ns, "node-1", hold)
	d := waitDeployment(t, env.Client, ns, "web", "the rollout to finish after the restart", func(d *appsv1.Deployment) bool {
		return rolledOut(d) && d.Annotations[deployment.RevisionAnnotation] == "2"
	})
	rss := replicaSets(t, env.Client, d)
	if len(rss) != 2 || *rss["1"].Spec.Replicas != 0 || *rss["2"].Spec.Replicas != 6 {
		t.Errorf("ReplicaSets after the restart: %v", sizes(rss))
	}
	if imgs := podImages(t, env.Client, ns, "app=web"); imgs["nginx:2"] != 6 || len(imgs) != 1 {
		t.Errorf("pods by image %v, want 6 of nginx:2", imgs)
	}
}

func hasCondition(d *appsv1.Deployment, typ appsv1.DeploymentConditionType, status corev1.ConditionStatus, reason string) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == typ {
			return c.Status == status && c.Reason == reason
		}
	}
	return false
}

func sizes(rss map[string]*appsv1.ReplicaSet) map[string]string {
	out := map[string]string{}
	for rev, rs := range rss {
		out[rev] = fmt.Sprintf("%s=%d", rs.Name, *rs.Spec.Replicas)
	}
	return out
}
