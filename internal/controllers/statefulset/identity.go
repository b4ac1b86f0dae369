package statefulset

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

// podName is the stable name of the pod with ordinal.
func podName(set string, ordinal int) string { return fmt.Sprintf("%s-%d", set, ordinal) }

// claimName is the stable name of a pod's claim from one template.
func claimName(template, set string, ordinal int) string {
	return fmt.Sprintf("%s-%s-%d", template, set, ordinal)
}

// ordinalOf parses "<set>-<ordinal>"; ok is false for a pod of another set
// or a name without a valid ordinal.
func ordinalOf(set, pod string) (int, bool) {
	i := strings.LastIndexByte(pod, '-')
	if i < 0 || pod[:i] != set {
		return 0, false
	}
	digits := pod[i+1:]
	if digits == "" || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// startOrdinal is spec.ordinals.start (0 by default).
func startOrdinal(set *appsv1.StatefulSet) int {
	if set.Spec.Ordinals != nil {
		return int(set.Spec.Ordinals.Start)
	}
	return 0
}

func replicas(set *appsv1.StatefulSet) int {
	if set.Spec.Replicas == nil {
		return 1
	}
	return int(*set.Spec.Replicas)
}

// inRange reports whether ordinal belongs to the set's current replicas.
func inRange(set *appsv1.StatefulSet, ordinal int) bool {
	start := startOrdinal(set)
	return ordinal >= start && ordinal < start+replicas(set)
}

// newPod is the pod with ordinal, from template (the revision it runs),
// labelled with revision's name.
func newPod(set *appsv1.StatefulSet, template *corev1.PodTemplateSpec, revision string, ordinal int) *corev1.Pod {
	pod := podcontrol.NewPod(template, set, podcontrol.ControllerRef(set, kind))
	name := podName(set.Name, ordinal)
	pod.GenerateName, pod.Name = "", name
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[appsv1.StatefulSetPodNameLabel] = name
	pod.Labels[appsv1.PodIndexLabel] = strconv.Itoa(ordinal)
	pod.Labels[appsv1.ControllerRevisionHashLabelKey] = revision
	pod.Spec.Hostname = name
	pod.Spec.Subdomain = set.Spec.ServiceName
	attachClaims(set, &pod.Spec, ordinal)
	return pod
}

// attachClaims points each claim template's volume at the pod's claim,
// replacing a template volume of the same name.
func attachClaims(set *appsv1.StatefulSet, spec *corev1.PodSpec, ordinal int) {
	for _, t := range set.Spec.VolumeClaimTemplates {
		v := corev1.Volume{Name: t.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claimName(t.Name, set.Name, ordinal)},
		}}
		replaced := false
		for i := range spec.Volumes {
			if spec.Volumes[i].Name == t.Name {
				spec.Volumes[i], replaced = v, true
			}
		}
		if !replaced {
			spec.Volumes = append(spec.Volumes, v)
		}
	}
}

// newClaims are the claims the pod with ordinal needs, labelled with the
// set's selector so they can be found again.
func newClaims(set *appsv1.StatefulSet, ordinal int) []*corev1.PersistentVolumeClaim {
	out := make([]*corev1.PersistentVolumeClaim, 0, len(set.Spec.VolumeClaimTemplates))
	for _, t := range set.Spec.VolumeClaimTemplates {
		c := t.DeepCopy()
		c.Name, c.Namespace = claimName(t.Name, set.Name, ordinal), set.Namespace
		c.ResourceVersion, c.UID, c.OwnerReferences = "", "", nil
		c.Status = corev1.PersistentVolumeClaimStatus{}
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		if set.Spec.Selector != nil {
			maps.Copy(c.Labels, set.Spec.Selector.MatchLabels)
		}
		out = append(out, c)
	}
	return out
}

func terminating(p *corev1.Pod) bool { return p.DeletionTimestamp != nil }

func runningAndReady(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodRunning && podcontrol.IsReady(p)
}

// healthy is what ordered operations wait for: running, ready for
// minReadySeconds, and not being deleted.
func healthy(p *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	return !terminating(p) && p.Status.Phase == corev1.PodRunning && podcontrol.IsAvailable(p, minReadySeconds, now)
}

func finished(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded
}
