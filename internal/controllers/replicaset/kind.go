package replicaset

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

// kind is what differs between ReplicaSets and ReplicationControllers: the
// controller itself sees every owner as a ReplicaSet.
type kind struct {
	name      string
	component string
	gvk       schema.GroupVersionKind
	informer  cache.SharedIndexInformer
	// get returns the owner from the cache, as a ReplicaSet and as itself.
	get func(ns, name string) (*appsv1.ReplicaSet, podcontrol.Owner, error)
	// ofPod lists the owners whose selector matches pod (for orphans).
	ofPod func(pod *corev1.Pod) ([]*appsv1.ReplicaSet, error)
	// fresh reads the owner from the API, bypassing the cache.
	fresh func(ctx context.Context, ns, name string) (metav1.Object, error)
	// writeStatus writes st onto owner's status subresource.
	writeStatus func(ctx context.Context, owner podcontrol.Owner, st appsv1.ReplicaSetStatus) error
}

func replicaSetKind(cc controller.Context) *kind {
	inf := cc.Informers.Apps().V1().ReplicaSets()
	c := cc.Client
	return &kind{
		name: Name, component: "replicaset-controller",
		gvk:      appsv1.SchemeGroupVersion.WithKind("ReplicaSet"),
		informer: inf.Informer(),
		get: func(ns, name string) (*appsv1.ReplicaSet, podcontrol.Owner, error) {
			rs, err := inf.Lister().ReplicaSets(ns).Get(name)
			return rs, rs, err
		},
		ofPod: inf.Lister().GetPodReplicaSets,
		fresh: func(ctx context.Context, ns, name string) (metav1.Object, error) {
			return c.AppsV1().ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{})
		},
		writeStatus: func(ctx context.Context, owner podcontrol.Owner, st appsv1.ReplicaSetStatus) error {
			return writeRSStatus(ctx, c, owner.(*appsv1.ReplicaSet), st)
		},
	}
}

func writeRSStatus(ctx context.Context, c kubernetes.Interface, rs *appsv1.ReplicaSet, st appsv1.ReplicaSetStatus) error {
	return retryStatus(ctx, func(fresh bool) error {
		if fresh {
			cur, err := c.AppsV1().ReplicaSets(rs.Namespace).Get(ctx, rs.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if cur.UID != rs.UID {
				return nil // replaced: the new one gets its own sync
			}
			rs = cur
		}
		up := rs.DeepCopy()
		up.Status = st
		_, err := c.AppsV1().ReplicaSets(rs.Namespace).UpdateStatus(ctx, up, metav1.UpdateOptions{})
		return err
	})
}

func replicationControllerKind(cc controller.Context) *kind {
	inf := cc.Informers.Core().V1().ReplicationControllers()
	c := cc.Client
	return &kind{
		name: RCName, component: "replication-controller",
		gvk:      corev1.SchemeGroupVersion.WithKind("ReplicationController"),
		informer: inf.Informer(),
		get: func(ns, name string) (*appsv1.ReplicaSet, podcontrol.Owner, error) {
			rc, err := inf.Lister().ReplicationControllers(ns).Get(name)
			if err != nil {
				return nil, nil, err
			}
			return rcToRS(rc), rc, nil
		},
		ofPod: func(pod *corev1.Pod) ([]*appsv1.ReplicaSet, error) {
			rcs, err := inf.Lister().GetPodControllers(pod)
			out := make([]*appsv1.ReplicaSet, 0, len(rcs))
			for _, rc := range rcs {
				out = append(out, rcToRS(rc))
			}
			return out, err
		},
		fresh: func(ctx context.Context, ns, name string) (metav1.Object, error) {
			return c.CoreV1().ReplicationControllers(ns).Get(ctx, name, metav1.GetOptions{})
		},
		writeStatus: func(ctx context.Context, owner podcontrol.Owner, st appsv1.ReplicaSetStatus) error {
			rc := owner.(*corev1.ReplicationController)
			return retryStatus(ctx, func(fresh bool) error {
				if fresh {
					cur, err := c.CoreV1().ReplicationControllers(rc.Namespace).Get(ctx, rc.Name, metav1.GetOptions{})
					if err != nil {
						return err
					}
					if cur.UID != rc.UID {
						return nil
					}
					rc = cur
				}
				up := rc.DeepCopy()
				up.Status = rsStatusToRC(st)
				_, err := c.CoreV1().ReplicationControllers(rc.Namespace).UpdateStatus(ctx, up, metav1.UpdateOptions{})
				return err
			})
		},
	}
}

// rcToRS views a ReplicationController as a ReplicaSet. Only what the
// controller reads is converted; the result is never written.
func rcToRS(rc *corev1.ReplicationController) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{
		ObjectMeta: rc.ObjectMeta,
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        rc.Spec.Replicas,
			MinReadySeconds: rc.Spec.MinReadySeconds,
			Selector:        &metav1.LabelSelector{MatchLabels: rc.Spec.Selector},
		},
		Status: appsv1.ReplicaSetStatus{
			Replicas: rc.Status.Replicas, FullyLabeledReplicas: rc.Status.FullyLabeledReplicas,
			ReadyReplicas: rc.Status.ReadyReplicas, AvailableReplicas: rc.Status.AvailableReplicas,
			ObservedGeneration: rc.Status.ObservedGeneration,
		},
	}
	if rc.Spec.Template != nil {
		rs.Spec.Template = *rc.Spec.Template
	}
	for _, c := range rc.Status.Conditions {
		rs.Status.Conditions = append(rs.Status.Conditions, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
		})
	}
	return rs
}

func rsStatusToRC(st appsv1.ReplicaSetStatus) corev1.ReplicationControllerStatus {
	out := corev1.ReplicationControllerStatus{
		Replicas: st.Replicas, FullyLabeledReplicas: st.FullyLabeledReplicas,
		ReadyReplicas: st.ReadyReplicas, AvailableReplicas: st.AvailableReplicas,
		ObservedGeneration: st.ObservedGeneration,
	}
	for _, c := range st.Conditions {
		out.Conditions = append(out.Conditions, corev1.ReplicationControllerCondition{
			Type: corev1.ReplicationControllerConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
		})
	}
	return out
}
