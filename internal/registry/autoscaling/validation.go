package autoscaling

import (
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Limits on scaling behavior, as upstream enforces them.
const (
	maxStabilizationWindow = 3600
	maxPolicyPeriod        = 1800
)

var (
	supportedMetricTypes = []autoscalingv2.MetricSourceType{
		autoscalingv2.ObjectMetricSourceType, autoscalingv2.PodsMetricSourceType, autoscalingv2.ResourceMetricSourceType,
		autoscalingv2.ExternalMetricSourceType, autoscalingv2.ContainerResourceMetricSourceType,
	}
	supportedTargetTypes = []autoscalingv2.MetricTargetType{
		autoscalingv2.UtilizationMetricType, autoscalingv2.ValueMetricType, autoscalingv2.AverageValueMetricType,
	}
	supportedSelectPolicies = []autoscalingv2.ScalingPolicySelect{
		autoscalingv2.MaxChangePolicySelect, autoscalingv2.MinChangePolicySelect, autoscalingv2.DisabledPolicySelect,
	}
	supportedPolicyTypes = []autoscalingv2.HPAScalingPolicyType{autoscalingv2.PodsScalingPolicy, autoscalingv2.PercentScalingPolicy}
)

func validateSpec(s *autoscalingv2.HorizontalPodAutoscalerSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.MinReplicas != nil && *s.MinReplicas < 1 {
		errs = append(errs, field.Invalid(fld.Child("minReplicas"), *s.MinReplicas, "must be greater than or equal to 1"))
	}
	if s.MaxReplicas < 1 {
		errs = append(errs, field.Invalid(fld.Child("maxReplicas"), s.MaxReplicas, "must be greater than 0"))
	}
	if s.MinReplicas != nil && s.MaxReplicas < *s.MinReplicas {
		errs = append(errs, field.Invalid(fld.Child("maxReplicas"), s.MaxReplicas, "must be greater than or equal to `minReplicas`"))
	}
	errs = append(errs, validateObjectRef(s.ScaleTargetRef, fld.Child("scaleTargetRef"))...)
	for i := range s.Metrics {
		errs = append(errs, validateMetric(&s.Metrics[i], fld.Child("metrics").Index(i))...)
	}
	if b := s.Behavior; b != nil {
		errs = append(errs, validateRules(b.ScaleUp, fld.Child("behavior", "scaleUp"))...)
		errs = append(errs, validateRules(b.ScaleDown, fld.Child("behavior", "scaleDown"))...)
	}
	return errs
}

func validateObjectRef(ref autoscalingv2.CrossVersionObjectReference, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, p := range []struct{ name, v string }{{"kind", ref.Kind}, {"name", ref.Name}} {
		if p.v == "" {
			errs = append(errs, field.Required(fld.Child(p.name), ""))
			continue
		}
		for _, msg := range content.IsPathSegmentName(p.v) {
			errs = append(errs, field.Invalid(fld.Child(p.name), p.v, msg))
		}
	}
	return errs
}

// validateMetric checks that a metric fills exactly the source its type
// names, and that source's target.
func validateMetric(m *autoscalingv2.MetricSpec, fld *field.Path) field.ErrorList {
	set := map[autoscalingv2.MetricSourceType]bool{
		autoscalingv2.ObjectMetricSourceType:            m.Object != nil,
		autoscalingv2.PodsMetricSourceType:              m.Pods != nil,
		autoscalingv2.ResourceMetricSourceType:          m.Resource != nil,
		autoscalingv2.ContainerResourceMetricSourceType: m.ContainerResource != nil,
		autoscalingv2.ExternalMetricSourceType:          m.External != nil,
	}
	count := 0
	for _, v := range set {
		if v {
			count++
		}
	}
	switch {
	case m.Type == "":
		return field.ErrorList{field.Required(fld.Child("type"), "must specify a metric source type")}
	case !contains(supportedMetricTypes, m.Type):
		return field.ErrorList{field.NotSupported(fld.Child("type"), m.Type, supportedMetricTypes)}
	case !set[m.Type]:
		return field.ErrorList{field.Required(fld.Child(lowerFirst(string(m.Type))), "must populate information for the given metric source")}
	case count > 1:
		return field.ErrorList{field.Forbidden(fld, "must populate the given metric source only")}
	}
	switch m.Type {
	case autoscalingv2.ObjectMetricSourceType:
		f := fld.Child("object")
		errs := validateObjectRef(m.Object.DescribedObject, f.Child("describedObject"))
		errs = append(errs, validateIdentifier(m.Object.Metric, f.Child("metric"))...)
		errs = append(errs, validateTarget(m.Object.Target, f.Child("target"))...)
		if m.Object.Target.Value == nil && m.Object.Target.AverageValue == nil {
			errs = append(errs, field.Required(f.Child("target", "averageValue"), "must set either a target value or averageValue"))
		}
		return errs
	case autoscalingv2.PodsMetricSourceType:
		f := fld.Child("pods")
		errs := validateIdentifier(m.Pods.Metric, f.Child("metric"))
		errs = append(errs, validateTarget(m.Pods.Target, f.Child("target"))...)
		if m.Pods.Target.AverageValue == nil {
			errs = append(errs, field.Required(f.Child("target", "averageValue"), "must specify a positive target averageValue"))
		}
		return errs
	case autoscalingv2.ExternalMetricSourceType:
		f := fld.Child("external")
		errs := validateIdentifier(m.External.Metric, f.Child("metric"))
		errs = append(errs, validateTarget(m.External.Target, f.Child("target"))...)
		if m.External.Target.Value == nil && m.External.Target.AverageValue == nil {
			errs = append(errs, field.Required(f.Child("target", "averageValue"), "must set either a target value for metric or a per-pod target"))
		}
		return errs
	case autoscalingv2.ResourceMetricSourceType:
		return validateResourceMetric(string(m.Resource.Name), "", m.Resource.Target, fld.Child("resource"), false)
	default:
		c := m.ContainerResource
		return validateResourceMetric(string(c.Name), c.Container, c.Target, fld.Child("containerResource"), true)
	}
}

func validateResourceMetric(name, container string, t autoscalingv2.MetricTarget, fld *field.Path, needContainer bool) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(fld.Child("name"), "must specify a resource name"))
	}
	if needContainer && container == "" {
		errs = append(errs, field.Required(fld.Child("container"), "must specify a container"))
	}
	errs = append(errs, validateTarget(t, fld.Child("target"))...)
	if t.AverageUtilization == nil && t.AverageValue == nil {
		errs = append(errs, field.Required(fld.Child("target", "averageUtilization"), "must set either a target raw value or a target utilization"))
	}
	if t.AverageUtilization != nil && t.AverageValue != nil {
		errs = append(errs, field.Forbidden(fld.Child("target", "averageValue"), "may not set both a target raw value and a target utilization"))
	}
	return errs
}

func validateIdentifier(id autoscalingv2.MetricIdentifier, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if id.Name == "" {
		errs = append(errs, field.Required(fld.Child("name"), "must specify a metric name"))
	} else {
		for _, msg := range content.IsPathSegmentName(id.Name) {
			errs = append(errs, field.Invalid(fld.Child("name"), id.Name, msg))
		}
	}
	return append(errs, metav1validation.ValidateLabelSelector(id.Selector, metav1validation.LabelSelectorValidationOptions{}, fld.Child("selector"))...)
}

func validateTarget(t autoscalingv2.MetricTarget, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.Type == "" {
		errs = append(errs, field.Required(fld.Child("type"), "must specify a metric target type"))
	} else if !contains(supportedTargetTypes, t.Type) {
		errs = append(errs, field.NotSupported(fld.Child("type"), t.Type, supportedTargetTypes))
	}
	if t.Value != nil && t.Value.Sign() != 1 {
		errs = append(errs, field.Invalid(fld.Child("value"), t.Value.String(), "must be positive"))
	}
	if t.AverageValue != nil && t.AverageValue.Sign() != 1 {
		errs = append(errs, field.Invalid(fld.Child("averageValue"), t.AverageValue.String(), "must be positive"))
	}
	if t.AverageUtilization != nil && *t.AverageUtilization < 1 {
		errs = append(errs, field.Invalid(fld.Child("averageUtilization"), *t.AverageUtilization, "must be greater than 0"))
	}
	return errs
}

func validateRules(r *autoscalingv2.HPAScalingRules, fld *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	if w := r.StabilizationWindowSeconds; w != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*w), fld.Child("stabilizationWindowSeconds"))...)
		if *w > maxStabilizationWindow {
			errs = append(errs, field.Invalid(fld.Child("stabilizationWindowSeconds"), *w,
				fmt.Sprintf("must be less than or equal to %d", maxStabilizationWindow)))
		}
	}
	if p := r.SelectPolicy; p != nil && !contains(supportedSelectPolicies, *p) {
		errs = append(errs, field.NotSupported(fld.Child("selectPolicy"), *p, supportedSelectPolicies))
	}
	if len(r.Policies) == 0 && (r.SelectPolicy == nil || *r.SelectPolicy != autoscalingv2.DisabledPolicySelect) {
		errs = append(errs, field.Required(fld.Child("policies"), "must specify at least one Policy"))
	}
	for i, p := range r.Policies {
		pf := fld.Child("policies").Index(i)
		if !contains(supportedPolicyTypes, p.Type) {
			errs = append(errs, field.NotSupported(pf.Child("type"), p.Type, supportedPolicyTypes))
		}
		if p.Value <= 0 {
			errs = append(errs, field.Invalid(pf.Child("value"), p.Value, "must be greater than zero"))
		}
		if p.PeriodSeconds <= 0 {
			errs = append(errs, field.Invalid(pf.Child("periodSeconds"), p.PeriodSeconds, "must be greater than zero"))
		} else if p.PeriodSeconds > maxPolicyPeriod {
			errs = append(errs, field.Invalid(pf.Child("periodSeconds"), p.PeriodSeconds,
				fmt.Sprintf("must be less than or equal to %d", maxPolicyPeriod)))
		}
	}
	if t := r.Tolerance; t != nil && t.Sign() < 0 {
		errs = append(errs, field.Invalid(fld.Child("tolerance"), t.String(), "must be greater than or equal to 0"))
	}
	return errs
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// lowerFirst turns a metric source type ("ContainerResource") into its
// field name ("containerResource").
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}
