package e2e

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// TestRollout drives a Deployment through its life with kubectl's rollout
// commands, as a user would: the controller manager inside `navarch
// server` does the work.
func TestRollout(t *testing.T) {
	srv := requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "rollout")
	markPodsReady(t, srv, ns)
	k := func(args ...string) string { t.Helper(); return kubectl(t, append([]string{"-n", ns}, args...)...) }
	status := func() {
		t.Helper()
		if out := k("rollout", "status", "deployment/web", "--timeout=60s"); !strings.Contains(out, `deployment "web" successfully rolled out`) {
			t.Fatalf("rollout status: %q", out)
		}
	}
	images := func() string {
		t.Helper()
		return k("get", "pods", "-l", "app=web", "-o", `jsonpath={range .items[*]}{.spec.containers[0].image}{" "}{end}`)
	}

	// Pods must never be scheduled: a node agent, if one runs, would try to
	// pull images that do not exist here. markPodsReady plays the kubelet.
	manifest := k("create", "deployment", "web", "--image=nginx:1", "--replicas=3", "--dry-run=client", "-o", "json")
	var d map[string]any
	if err := json.Unmarshal([]byte(manifest), &d); err != nil {
		t.Fatal(err)
	}
	podSpec := d["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	podSpec["nodeSelector"] = map[string]string{"e2e.navarch.io/nowhere": "true"}
	b, _ := json.Marshal(d)
	if out := kubectlIn(t, string(b), "-n", ns, "create", "-f", "-"); strings.TrimSpace(out) != "deployment.apps/web created" {
		t.Fatalf("create: %q", out)
	}
	k("annotate", "deployment/web", "kubernetes.io/change-cause=create web")
	status()
	if got := images(); got != "nginx:1 nginx:1 nginx:1 " {
		t.Errorf("pod images %q, want three nginx:1", got)
	}
	rs := nonEmptyLines(k("get", "rs", "-l", "app=web", "-o", "wide"))
	if len(rs) != 2 || !regexp.MustCompile(`^web-(\w+) 3 3 3 \S+ nginx nginx:1 app=web,pod-template-hash=(\w+)$`).MatchString(columns(rs[1])) {
		t.Errorf("replica sets:\n%s", strings.Join(rs, "\n"))
	}

	if out := k("set", "image", "deployment/web", "nginx=nginx:2"); strings.TrimSpace(out) != "deployment.apps/web image updated" {
		t.Errorf("set image: %q", out)
	}
	k("annotate", "deployment/web", "--overwrite", "kubernetes.io/change-cause=set image nginx:2")
	status()
	if got := images(); got != "nginx:2 nginx:2 nginx:2 " {
		t.Errorf("pod images %q after set image, want three nginx:2", got)
	}
	if got := historyRows(k("rollout", "history", "deployment/web")); got != "1 create web|2 set image nginx:2" {
		t.Errorf("rollout history: %q", got)
	}
	if out := k("rollout", "history", "deployment/web", "--revision=2"); !strings.Contains(out, "with revision #2") || !strings.Contains(out, "Image:\tnginx:2") {
		t.Errorf("rollout history --revision=2:\n%s", out)
	}

	if out := k("rollout", "undo", "deployment/web"); strings.TrimSpace(out) != "deployment.apps/web rolled back" {
		t.Errorf("rollout undo: %q", out)
	}
	status()
	if got := images(); got != "nginx:1 nginx:1 nginx:1 " {
		t.Errorf("pod images %q after undo, want three nginx:1", got)
	}
	if got := historyRows(k("rollout", "history", "deployment/web")); got != "2 set image nginx:2|3 create web" {
		t.Errorf("rollout history after undo: %q", got)
	}
	if got := k("get", "deployment/web", "-o", `jsonpath={.metadata.annotations.deployment\.kubernetes\.io/revision}`); got != "3" {
		t.Errorf("revision after undo: %q, want 3", got)
	}

	if out := k("rollout", "restart", "deployment/web"); strings.TrimSpace(out) != "deployment.apps/web restarted" {
		t.Errorf("rollout restart: %q", out)
	}
	status()
	if got := k("get", "pods", "-l", "app=web", "-o", `jsonpath={range .items[*]}{.metadata.annotations.kubectl\.kubernetes\.io/restartedAt}{"|"}{end}`); strings.Count(got, "|") != 3 || strings.Contains(got, "||") || strings.HasPrefix(got, "|") {
		t.Errorf("restarted pods carry restartedAt: %q", got)
	}

	k("rollout", "pause", "deployment/web")
	k("set", "image", "deployment/web", "nginx=nginx:3")
	waitFor(t, "the paused condition", func() bool {
		return k("get", "deployment/web", "-o", `jsonpath={.status.conditions[?(@.type=="Progressing")].reason}`) == "DeploymentPaused"
	})
	if got := images(); strings.Contains(got, "nginx:3") {
		t.Errorf("a paused deployment rolled out: %q", got)
	}
	if msg := kubectlFail(t, "-n", ns, "rollout", "undo", "deployment/web"); !strings.Contains(msg, "you cannot rollback a paused deployment") {
		t.Errorf("undo while paused: %q", msg)
	}
	if out := k("rollout", "resume", "deployment/web"); strings.TrimSpace(out) != "deployment.apps/web resumed" {
		t.Errorf("rollout resume: %q", out)
	}
	status()
	if got := images(); got != "nginx:3 nginx:3 nginx:3 " {
		t.Errorf("pod images %q after resume, want three nginx:3", got)
	}

	if out := k("scale", "deployment/web", "--replicas=5"); strings.TrimSpace(out) != "deployment.apps/web scaled" {
		t.Errorf("scale: %q", out)
	}
	status()
	row := nonEmptyLines(k("get", "deployment", "web"))
	if len(row) != 2 || !regexp.MustCompile(`^web 5/5 5 5 \S+$`).MatchString(columns(row[1])) {
		t.Errorf("get deployment: %q", row)
	}
	events := k("get", "events", "--field-selector", "involvedObject.kind=Deployment,reason=ScalingReplicaSet", "-o", "jsonpath={.items[*].message}")
	if !regexp.MustCompile(`Scaled up replica set web-\w+ from 0 to 3`).MatchString(events) ||
		!regexp.MustCompile(`Scaled down replica set web-\w+ from \d+ to \d+`).MatchString(events) {
		t.Errorf("ScalingReplicaSet events: %q", events)
	}
}

// historyRows renders `kubectl rollout history` rows as "rev cause|...".
func historyRows(out string) string {
	var rows []string
	for _, l := range nonEmptyLines(out)[1:] {
		if f := strings.Fields(l); len(f) > 0 && f[0] != "REVISION" {
			rows = append(rows, strings.Join(f, " "))
		}
	}
	return strings.Join(rows, "|")
}

// markPodsReady stands in for the kubelet in ns: it reports every pod
// Running and Ready through the status subresource, as a node agent does.
func markPodsReady(t *testing.T, srv *server, ns string) {
	t.Helper()
	c, err := kubernetes.NewForConfig(restConfig(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f := informers.NewSharedInformerFactoryWithOptions(c, 0, informers.WithNamespace(ns))
	ready := func(obj any) {
		pod, ok := obj.(*corev1.Pod)
		if !ok || pod.DeletionTimestamp != nil || podReady(pod) {
			return
		}
		now := metav1.Now()
		up := pod.DeepCopy()
		up.Status.Phase = corev1.PodRunning
		up.Status.StartTime = &now
		for _, typ := range []corev1.PodConditionType{corev1.ContainersReady, corev1.PodReady} {
			setPodCondition(up, corev1.PodCondition{Type: typ, Status: corev1.ConditionTrue, LastTransitionTime: now})
		}
		// A conflict or a deleted pod comes back as another event.
		_, _ = c.CoreV1().Pods(ns).UpdateStatus(ctx, up, metav1.UpdateOptions{})
	}
	if _, err := f.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: ready, UpdateFunc: func(_, o any) { ready(o) },
	}); err != nil {
		t.Fatal(err)
	}
	f.Start(ctx.Done())
}

func setPodCondition(p *corev1.Pod, c corev1.PodCondition) {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == c.Type {
			p.Status.Conditions[i] = c
			return
		}
	}
	p.Status.Conditions = append(p.Status.Conditions, c)
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// waitFor polls cond until it holds or 30 seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond) // polling interval, not a wait for an outcome
	}
}
