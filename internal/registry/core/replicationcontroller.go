package core

import (
	"context"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

type rcStrategy struct{ registry.BaseStrategy }

func replicationControllerResource() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Resource: "replicationcontrollers", Kind: "ReplicationController",
		Singular: "replicationcontroller", ShortNames: []string{"rc"}, Categories: []string{"all"},
		Namespaced: true,
		New:        func() runtime.Object { return &corev1.ReplicationController{} },
		NewList:    func() runtime.Object { return &corev1.ReplicationControllerList{} },
		Strategy:   rcStrategy{},
		Fields: func(obj runtime.Object) fields.Set {
			return fields.Set{"status.replicas": itoa32(obj.(*corev1.ReplicationController).Status.Replicas)}
		},
		HasStatus: true,
		Scale:     &registry.Scale{Get: rcScaleGet, Set: rcScaleSet},
	}
}

func rcScaleGet(obj runtime.Object) (int32, int32, string) {
	rc := obj.(*corev1.ReplicationController)
	spec := int32(1)
	if rc.Spec.Replicas != nil {
		spec = *rc.Spec.Replicas
	}
	return spec, rc.Status.Replicas, labels.SelectorFromSet(rc.Spec.Selector).String()
}

func rcScaleSet(obj runtime.Object, replicas int32) {
	obj.(*corev1.ReplicationController).Spec.Replicas = ptr(replicas)
}

// Default mirrors upstream: the selector and the object's own labels
// default to the template labels, and replicas to 1.
func (rcStrategy) Default(obj runtime.Object) {
	rc := obj.(*corev1.ReplicationController)
	if t := rc.Spec.Template; t != nil && t.Labels != nil {
		if len(rc.Spec.Selector) == 0 {
			rc.Spec.Selector = maps.Clone(t.Labels)
		}
		if len(rc.Labels) == 0 {
			rc.Labels = maps.Clone(t.Labels)
		}
	}
	if rc.Spec.Replicas == nil {
		rc.Spec.Replicas = ptr(int32(1))
	}
	DefaultPodTemplateSpec(rc.Spec.Template)
}

// Validate implements registry.Strategy.
func (rcStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	rc := obj.(*corev1.ReplicationController)
	errs := validateMeta(&rc.ObjectMeta, true, apivalidation.NameIsDNSSubdomain)
	return append(errs, validateRCSpec(&rc.Spec)...)
}

// ValidateUpdate implements registry.Strategy.
func (rcStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	rc, o := obj.(*corev1.ReplicationController), old.(*corev1.ReplicationController)
	errs := validateMetaUpdate(&rc.ObjectMeta, &o.ObjectMeta)
	return append(errs, validateRCSpec(&rc.Spec)...)
}

// ValidateStatusUpdate keeps the replica counters non-negative and
// consistent.
func (rcStrategy) ValidateStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	rc, o := obj.(*corev1.ReplicationController), old.(*corev1.ReplicationController)
	errs := validateMetaUpdate(&rc.ObjectMeta, &o.ObjectMeta)
	st, p := rc.Status, field.NewPath("status")
	for _, c := range []struct {
		name string
		v    int32
	}{
		{"replicas", st.Replicas}, {"fullyLabeledReplicas", st.FullyLabeledReplicas},
		{"readyReplicas", st.ReadyReplicas}, {"availableReplicas", st.AvailableReplicas},
	} {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(c.v), p.Child(c.name))...)
	}
	if st.ReadyReplicas > st.Replicas {
		errs = append(errs, field.Invalid(p.Child("readyReplicas"), st.ReadyReplicas, "cannot be greater than status.replicas"))
	}
	if st.AvailableReplicas > st.ReadyReplicas {
		errs = append(errs, field.Invalid(p.Child("availableReplicas"), st.AvailableReplicas, "cannot be greater than readyReplicas"))
	}
	return errs
}

func validateRCSpec(spec *corev1.ReplicationControllerSpec) field.ErrorList {
	var errs field.ErrorList
	if spec.Replicas != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*spec.Replicas), specPath.Child("replicas"))...)
	}
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), specPath.Child("minReadySeconds"))...)
	if len(spec.Selector) == 0 {
		errs = append(errs, field.Required(specPath.Child("selector"), ""))
	} else {
		errs = append(errs, metav1validation.ValidateLabels(spec.Selector, specPath.Child("selector"))...)
	}
	tp := specPath.Child("template")
	if spec.Template == nil {
		return append(errs, field.Required(tp, ""))
	}
	if len(spec.Selector) > 0 && !labels.SelectorFromSet(spec.Selector).Matches(labels.Set(spec.Template.Labels)) {
		errs = append(errs, field.Invalid(tp.Child("metadata", "labels"), spec.Template.Labels,
			"`selector` does not match template `labels`"))
	}
	errs = append(errs, ValidatePodTemplateSpec(spec.Template, tp)...)
	errs = append(errs, validateControllerTemplate(&spec.Template.Spec, tp.Child("spec"))...)
	return errs
}

// validateControllerTemplate holds the rules every long-running
// controller's template shares: pods restart forever and never time out.
func validateControllerTemplate(spec *corev1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(p.Child("restartPolicy"), spec.RestartPolicy,
			[]corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(p.Child("activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicationController is not Supported"))
	}
	return errs
}
