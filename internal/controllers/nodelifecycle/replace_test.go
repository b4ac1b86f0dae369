package nodelifecycle_test

import (
	"context"
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/navarch/navarch/internal/controllers/replicaset"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

// TestDeadNodePodsReplacedElsewhere: with the scheduler and the ReplicaSet
// controller running, pods of a node whose heartbeat stops are evicted
// after their toleration and recreated on the other nodes.
func TestDeadNodePodsReplacedElsewhere(t *testing.T) {
	env := testserver.Start(t, testserver.WithScheduler(), testserver.WithControllers(replicaset.Name))
	ns := env.Namespace(t, "replace")
	cluster := nodes(t, env, 3)
	start(t, env, fast)
	ctx := context.Background()
	n := int32(6)
	labels := map[string]string{"app": "web"}
	two := int64(2)
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.ReplicaSetSpec{
		Replicas: &n, Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
			Tolerations: []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists,
				Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &two}},
		}}}}
	if _, err := env.Client.AppsV1().ReplicaSets(ns).Create(ctx, rs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	perNode := func() (map[string]int, error) {
		pods, err := env.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		out := map[string]int{}
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil && podReady(&p) == corev1.ConditionTrue {
				out[p.Spec.NodeName]++
			}
		}
		return out, nil
	}
	var dead string
	testserver.Eventually(t, wait, "six ready pods", func() (bool, error) {
		m, err := perNode()
		total := 0
		for node, k := range m {
			total += k
			if k > 0 {
				dead = node
			}
		}
		return total == 6, fmt.Errorf("%v %v", m, err)
	})
	cluster.StopHeartbeat(dead)
	testserver.Eventually(t, wait, "six ready pods, none on the dead node", func() (bool, error) {
		m, err := perNode()
		total := 0
		for _, k := range m {
			total += k
		}
		return total == 6 && m[dead] == 0, fmt.Errorf("%v %v", m, err)
	})
}
