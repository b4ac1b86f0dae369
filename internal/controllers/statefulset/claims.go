package statefulset

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func deleteWhen(set *appsv1.StatefulSet) (whenDeleted, whenScaled bool) {
	p := set.Spec.PersistentVolumeClaimRetentionPolicy
	if p == nil {
		return false, false
	}
	return p.WhenDeleted == appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
		p.WhenScaled == appsv1.DeletePersistentVolumeClaimRetentionPolicyType
}

// claimOwners returns the ownerReferences a claim of the pod with ordinal
// should carry: the set when whenDeleted is Delete, the pod when it is
// condemned and whenScaled is Delete. References to anything else stay.
func claimOwners(set *appsv1.StatefulSet, refs []metav1.OwnerReference, ordinal int, pod *corev1.Pod) []metav1.OwnerReference {
	whenDeleted, whenScaled := deleteWhen(set)
	name := podName(set.Name, ordinal)
	var out []metav1.OwnerReference
	for _, r := range refs {
		if r.UID == set.UID || (r.Kind == "Pod" && r.APIVersion == "v1" && r.Name == name) {
			continue
		}
		out = append(out, r)
	}
	if whenDeleted {
		out = append(out, metav1.OwnerReference{APIVersion: kind.GroupVersion().String(), Kind: kind.Kind, Name: set.Name, UID: set.UID})
	}
	if whenScaled && pod != nil && !inRange(set, ordinal) {
		out = append(out, metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID})
	}
	return out
}

func sameRefs(a, b []metav1.OwnerReference) bool {
	return slices.EqualFunc(a, b, func(x, y metav1.OwnerReference) bool { return x.UID == y.UID && x.Kind == y.Kind })
}

// createClaims makes the missing claims of the pod with ordinal. A claim
// still being deleted (retention Delete, then a quick scale-up) holds the
// pod back until it is gone.
func (c *Controller) createClaims(ctx context.Context, set *appsv1.StatefulSet, ordinal int) error {
	pod := podName(set.Name, ordinal)
	for _, claim := range newClaims(set, ordinal) {
		existing, err := c.claims.PersistentVolumeClaims(set.Namespace).Get(claim.Name)
		if err == nil {
			if existing.DeletionTimestamp != nil {
				return fmt.Errorf("claim %s/%s of pod %s is being deleted; waiting", set.Namespace, claim.Name, pod)
			}
			continue
		}
		claim.OwnerReferences = claimOwners(set, nil, ordinal, nil)
		_, err = c.client.CoreV1().PersistentVolumeClaims(set.Namespace).Create(ctx, claim, metav1.CreateOptions{})
		switch {
		case apierrors.IsAlreadyExists(err):
		case err != nil:
			c.recorder.Eventf(set, corev1.EventTypeWarning, "FailedCreate", "create Claim %s for Pod %s in StatefulSet %s failed error: %s", claim.Name, pod, set.Name, err)
			return fmt.Errorf("create claim %s/%s: %w", set.Namespace, claim.Name, err)
		default:
			c.recorder.Eventf(set, corev1.EventTypeNormal, "SuccessfulCreate", "create Claim %s Pod %s in StatefulSet %s success", claim.Name, pod, set.Name)
		}
	}
	return nil
}

// condemnClaims gives the claims of a pod being scaled away the owners
// the retention policy asks for, before the pod goes, so that the garbage
// collector deletes them with it under whenScaled: Delete.
func (c *Controller) condemnClaims(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	o, _ := ordinalOf(set.Name, pod.Name)
	return c.ownClaims(ctx, set, o, pod)
}

// retainClaims keeps the ownerReferences of every claim of the set's
// ordinals in line with the retention policy, which users may change.
func (c *Controller) retainClaims(ctx context.Context, v *view) error {
	if len(v.set.Spec.VolumeClaimTemplates) == 0 {
		return nil
	}
	start, n := startOrdinal(v.set), replicas(v.set)
	for o := start; o < start+n; o++ {
		if err := c.ownClaims(ctx, v.set, o, v.slots[o]); err != nil {
			return err
		}
	}
	for _, p := range v.condemned {
		o, _ := ordinalOf(v.set.Name, p.Name)
		if err := c.ownClaims(ctx, v.set, o, p); err != nil {
			return err
		}
	}
	return nil
}

func (c *Controller) ownClaims(ctx context.Context, set *appsv1.StatefulSet, ordinal int, pod *corev1.Pod) error {
	for _, t := range set.Spec.VolumeClaimTemplates {
		claim, err := c.claims.PersistentVolumeClaims(set.Namespace).Get(claimName(t.Name, set.Name, ordinal))
		if err != nil || claim.DeletionTimestamp != nil {
			continue // missing claims are created with their pods
		}
		want := claimOwners(set, claim.OwnerReferences, ordinal, pod)
		if sameRefs(want, claim.OwnerReferences) {
			continue
		}
		up := claim.DeepCopy()
		up.OwnerReferences = want
		if _, err := c.client.CoreV1().PersistentVolumeClaims(set.Namespace).Update(ctx, up, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("update owners of claim %s/%s: %w", set.Namespace, claim.Name, err)
		}
	}
	return nil
}
