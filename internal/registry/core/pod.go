package core

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

// defaultTolerationSeconds is what the DefaultTolerationSeconds admission
// plugin grants for not-ready and unreachable nodes.
const defaultTolerationSeconds int64 = 300

// podUpdatableFields is the list upstream quotes when a pod update touches
// an immutable part of the spec.
var podUpdatableFields = []string{
	"`spec.containers[*].image`",
	"`spec.initContainers[*].image`",
	"`spec.activeDeadlineSeconds`",
	"`spec.tolerations` (only additions to existing tolerations)",
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
}

type podStrategy struct{ registry.BaseStrategy }

func podResource() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Resource: "pods", Kind: "Pod", Singular: "pod",
		ShortNames: []string{"po"}, Categories: []string{"all"}, Namespaced: true,
		New:       func() runtime.Object { return &corev1.Pod{} },
		NewList:   func() runtime.Object { return &corev1.PodList{} },
		Strategy:  podStrategy{},
		Fields:    podFields,
		HasStatus: true,
		Subresources: []string{
			"binding", "eviction", "log", "exec", "attach", "portforward", "proxy",
		},
	}
}

func podFields(obj runtime.Object) fields.Set {
	p := obj.(*corev1.Pod)
	podIP := ""
	if len(p.Status.PodIPs) > 0 {
		podIP = p.Status.PodIPs[0].IP
	} else {
		podIP = p.Status.PodIP
	}
	return fields.Set{
		"spec.nodeName":            p.Spec.NodeName,
		"spec.restartPolicy":       string(p.Spec.RestartPolicy),
		"spec.schedulerName":       p.Spec.SchedulerName,
		"spec.serviceAccountName":  p.Spec.ServiceAccountName,
		"spec.hostNetwork":         strconv.FormatBool(p.Spec.HostNetwork),
		"status.phase":             string(p.Status.Phase),
		"status.podIP":             podIP,
		"status.nominatedNodeName": p.Status.NominatedNodeName,
	}
}

// Default implements registry.Strategy.
func (podStrategy) Default(obj runtime.Object) {
	spec := &obj.(*corev1.Pod).Spec
	DefaultPodSpec(spec)
	DefaultPodRequests(spec)
}

// PrepareForCreate applies the admission-time defaults a pod (not a
// template) receives, and the initial status.
func (podStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	p := obj.(*corev1.Pod)
	applyPodAdmissionDefaults(&p.Spec)
	p.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: computeQOS(&p.Spec)}
}

// applyPodAdmissionDefaults stands in for the ServiceAccount, Priority and
// DefaultTolerationSeconds admission plugins.
func applyPodAdmissionDefaults(spec *corev1.PodSpec) {
	if spec.ServiceAccountName == "" {
		spec.ServiceAccountName = "default"
	}
	spec.DeprecatedServiceAccount = spec.ServiceAccountName
	if spec.Priority == nil && spec.PriorityClassName == "" {
		spec.Priority = ptr(int32(0))
	}
	if spec.PreemptionPolicy == nil {
		spec.PreemptionPolicy = ptr(corev1.PreemptLowerPriority)
	}
	for _, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable} {
		if !toleratesNoExecute(spec.Tolerations, key) {
			spec.Tolerations = append(spec.Tolerations, corev1.Toleration{
				Key: key, Operator: corev1.TolerationOpExists,
				Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(defaultTolerationSeconds),
			})
		}
	}
}

// toleratesNoExecute reports whether some toleration already covers the
// NoExecute taint key, in which case admission adds nothing.
func toleratesNoExecute(tols []corev1.Toleration, key string) bool {
	for _, t := range tols {
		if (t.Key == key || (t.Key == "" && t.Operator == corev1.TolerationOpExists)) &&
			(t.Effect == corev1.TaintEffectNoExecute || t.Effect == "") {
			return true
		}
	}
	return false
}

// Validate implements registry.Strategy.
func (podStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	p := obj.(*corev1.Pod)
	errs := apivalidation.ValidateObjectMeta(&p.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	return append(errs, ValidatePodSpec(&p.Spec, field.NewPath("spec"))...)
}

// ValidateUpdate allows only the few mutable pod spec fields to change.
func (podStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	p, o := obj.(*corev1.Pod), old.(*corev1.Pod)
	errs := apivalidation.ValidateObjectMetaUpdate(&p.ObjectMeta, &o.ObjectMeta, field.NewPath("metadata"))
	specPath := field.NewPath("spec")
	errs = append(errs, ValidatePodSpec(&p.Spec, specPath)...)
	errs = append(errs, validateActiveDeadlineUpdate(p.Spec.ActiveDeadlineSeconds, o.Spec.ActiveDeadlineSeconds, specPath.Child("activeDeadlineSeconds"))...)
	errs = append(errs, validateTolerationsUpdate(p.Spec.Tolerations, o.Spec.Tolerations, specPath.Child("tolerations"))...)
	if !equality.Semantic.DeepEqual(maskMutablePodSpec(&p.Spec, &o.Spec), &o.Spec) {
		errs = append(errs, field.Forbidden(specPath, fmt.Sprintf("pod updates may not change fields other than %s\n%s",
			strings.Join(podUpdatableFields, ","), diff.Diff(&o.Spec, maskMutablePodSpec(&p.Spec, &o.Spec)))))
	}
	return errs
}

// maskMutablePodSpec returns a copy of spec with the fields a pod update
// may change taken from old, so what remains must equal old.
func maskMutablePodSpec(spec, old *corev1.PodSpec) *corev1.PodSpec {
	m := spec.DeepCopy()
	maskImages(m.Containers, old.Containers)
	maskImages(m.InitContainers, old.InitContainers)
	m.ActiveDeadlineSeconds = old.ActiveDeadlineSeconds
	m.Tolerations = old.Tolerations
	// Scheduling gates may only be removed.
	if isSubset(m.SchedulingGates, old.SchedulingGates) {
		m.SchedulingGates = old.SchedulingGates
	}
	if g := old.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		m.TerminationGracePeriodSeconds = g
	}
	return m
}

func maskImages(cs, old []corev1.Container) {
	if len(cs) != len(old) {
		return
	}
	for i := range cs {
		cs[i].Image = old[i].Image
	}
}

func validateActiveDeadlineUpdate(newV, oldV *int64, p *field.Path) field.ErrorList {
	switch {
	case newV == nil && oldV != nil:
		return field.ErrorList{field.Invalid(p, newV, "must not update from a positive integer to nil value")}
	case newV != nil && oldV != nil && *newV > *oldV:
		return field.ErrorList{field.Invalid(p, *newV, "must be less than or equal to previous value")}
	}
	return nil
}

// validateTolerationsUpdate allows additions only; an existing NoExecute
// toleration may shorten its tolerationSeconds.
func validateTolerationsUpdate(newT, oldT []corev1.Toleration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, o := range oldT {
		found := false
		for _, n := range newT {
			if n.Key != o.Key || n.Operator != o.Operator || n.Value != o.Value || n.Effect != o.Effect {
				continue
			}
			if tolerationSecondsOK(n.TolerationSeconds, o.TolerationSeconds) {
				found = true
				break
			}
		}
		if !found {
			errs = append(errs, field.Forbidden(p, "existing toleration can not be modified except its tolerationSeconds"))
			break
		}
	}
	return errs
}

func tolerationSecondsOK(n, o *int64) bool {
	switch {
	case o == nil:
		return true
	case n == nil:
		return false
	default:
		return *n <= *o
	}
}

// ValidateStatusUpdate checks writes to pods/status.
func (podStrategy) ValidateStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	p, o := obj.(*corev1.Pod), old.(*corev1.Pod)
	errs := apivalidation.ValidateObjectMetaUpdate(&p.ObjectMeta, &o.ObjectMeta, field.NewPath("metadata"))
	phases := []corev1.PodPhase{corev1.PodPending, corev1.PodRunning, corev1.PodSucceeded, corev1.PodFailed, corev1.PodUnknown}
	if p.Status.Phase != "" && !contains(phases, p.Status.Phase) {
		errs = append(errs, field.NotSupported(field.NewPath("status", "phase"), p.Status.Phase, phases))
	}
	if o.Spec.NodeName != "" && p.Spec.NodeName != o.Spec.NodeName {
		errs = append(errs, field.Forbidden(field.NewPath("status", "nodeName"), "may not be changed directly"))
	}
	errs = append(errs, validatePodIPs(&p.Status, field.NewPath("status"))...)
	return errs
}

func isSubset(gates, old []corev1.PodSchedulingGate) bool {
	for _, g := range gates {
		if !contains(old, g) {
			return false
		}
	}
	return true
}
