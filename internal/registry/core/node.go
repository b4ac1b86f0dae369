package core

import (
	"context"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

type nodeStrategy struct{ registry.BaseStrategy }

func nodeResource() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Resource: "nodes", Kind: "Node", Singular: "node",
		ShortNames: []string{"no"},
		New:        func() runtime.Object { return &corev1.Node{} },
		NewList:    func() runtime.Object { return &corev1.NodeList{} },
		Strategy:   nodeStrategy{},
		Fields: func(obj runtime.Object) fields.Set {
			return fields.Set{"spec.unschedulable": strconv.FormatBool(obj.(*corev1.Node).Spec.Unschedulable)}
		},
		HasStatus:    true,
		Subresources: []string{"proxy"},
	}
}

// Default copies capacity into allocatable when a node reports only
// capacity, as upstream's NodeStatus defaulting does.
func (nodeStrategy) Default(obj runtime.Object) {
	st := &obj.(*corev1.Node).Status
	if st.Allocatable == nil && st.Capacity != nil {
		st.Allocatable = st.Capacity.DeepCopy()
	}
}

// Validate implements registry.Strategy.
func (nodeStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	n := obj.(*corev1.Node)
	errs := validateMeta(&n.ObjectMeta, false, apivalidation.NameIsDNSSubdomain)
	return append(errs, validateNodeSpec(&n.Spec)...)
}

// ValidateUpdate keeps podCIDRs and providerID fixed once set.
func (nodeStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	n, o := obj.(*corev1.Node), old.(*corev1.Node)
	errs := validateMetaUpdate(&n.ObjectMeta, &o.ObjectMeta)
	errs = append(errs, validateNodeSpec(&n.Spec)...)
	errs = append(errs, validateNodeSpecUpdate(&n.Spec, &o.Spec)...)
	return errs
}

func validateNodeSpecUpdate(spec, old *corev1.NodeSpec) field.ErrorList {
	var errs field.ErrorList
	if len(old.PodCIDRs) > 0 && !slices.Equal(spec.PodCIDRs, old.PodCIDRs) {
		errs = append(errs, field.Forbidden(specPath.Child("podCIDRs"), "node updates may not change podCIDR except from \"\" to valid"))
	}
	if old.PodCIDR != "" && spec.PodCIDR != old.PodCIDR {
		errs = append(errs, field.Forbidden(specPath.Child("podCIDR"), "node updates may not change podCIDR except from \"\" to valid"))
	}
	if old.ProviderID != "" && spec.ProviderID != old.ProviderID {
		errs = append(errs, field.Forbidden(specPath.Child("providerID"), "node updates may not change providerID except from \"\" to valid"))
	}
	return errs
}

// ValidateStatusUpdate checks node addresses and resource quantities.
func (nodeStrategy) ValidateStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	n, o := obj.(*corev1.Node), old.(*corev1.Node)
	errs := validateMetaUpdate(&n.ObjectMeta, &o.ObjectMeta)
	st := field.NewPath("status")
	for name, q := range n.Status.Capacity {
		errs = append(errs, validateNonnegativeQuantity(q, st.Child("capacity").Key(string(name)))...)
	}
	for name, q := range n.Status.Allocatable {
		errs = append(errs, validateNonnegativeQuantity(q, st.Child("allocatable").Key(string(name)))...)
	}
	return errs
}

func validateNodeSpec(spec *corev1.NodeSpec) field.ErrorList {
	var errs field.ErrorList
	if spec.PodCIDR != "" {
		errs = append(errs, validation.IsValidCIDRForLegacyField(specPath.Child("podCIDR"), spec.PodCIDR, false, nil)...)
	}
	for i, c := range spec.PodCIDRs {
		errs = append(errs, validation.IsValidCIDRForLegacyField(specPath.Child("podCIDRs").Index(i), c, false, nil)...)
	}
	if len(spec.PodCIDRs) > 0 && spec.PodCIDR != spec.PodCIDRs[0] {
		errs = append(errs, field.Invalid(specPath.Child("podCIDRs").Index(0), spec.PodCIDRs[0], "must match `podCIDR`"))
	}
	return append(errs, validateTaints(spec.Taints, specPath.Child("taints"))...)
}

var supportedTaintEffects = []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute}

func validateTaints(taints []corev1.Taint, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	type key struct {
		k string
		e corev1.TaintEffect
	}
	seen := map[key]bool{}
	for i, t := range taints {
		p := fld.Index(i)
		errs = append(errs, metav1validation.ValidateLabelName(t.Key, p.Child("key"))...)
		if t.Value != "" {
			errs = append(errs, validateName(t.Value, p.Child("value"), validation.IsValidLabelValue)...)
		}
		if t.Effect == "" {
			errs = append(errs, field.Required(p.Child("effect"), ""))
		} else if !contains(supportedTaintEffects, t.Effect) {
			errs = append(errs, field.NotSupported(p.Child("effect"), t.Effect, supportedTaintEffects))
		}
		k := key{t.Key, t.Effect}
		if seen[k] {
			errs = append(errs, field.Duplicate(p, "taints must be unique by key and effect pair"))
		}
		seen[k] = true
	}
	return errs
}
