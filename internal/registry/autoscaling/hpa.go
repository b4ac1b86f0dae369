package autoscaling

import (
	"context"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

// DefaultCPUUtilization is the target an HPA without metrics scales on.
const DefaultCPUUtilization = 80

var (
	metaPath   = field.NewPath("metadata")
	specPath   = field.NewPath("spec")
	statusPath = field.NewPath("status")
)

// HPAStrategy implements registry.Strategy for autoscaling/v2
// HorizontalPodAutoscalers. It also accepts autoscaling/v1 objects,
// converting them first, so the store may pass either form.
type HPAStrategy struct{ registry.BaseStrategy }

var _ registry.StatusValidator = HPAStrategy{}

// Default applies the autoscaling/v2 defaults.
func (HPAStrategy) Default(obj runtime.Object) {
	if v1, ok := obj.(*autoscalingv1.HorizontalPodAutoscaler); ok {
		defaultV1(v1)
		return
	}
	defaultV2(obj.(*autoscalingv2.HorizontalPodAutoscaler))
}

func defaultV2(h *autoscalingv2.HorizontalPodAutoscaler) {
	if h.Spec.MinReplicas == nil {
		h.Spec.MinReplicas = new(int32(1))
	}
	if len(h.Spec.Metrics) == 0 {
		h.Spec.Metrics = []autoscalingv2.MetricSpec{cpuMetric(DefaultCPUUtilization)}
	}
	if b := h.Spec.Behavior; b != nil {
		b.ScaleUp = defaultRules(b.ScaleUp, scaleUpDefaults())
		b.ScaleDown = defaultRules(b.ScaleDown, scaleDownDefaults())
	}
}

func cpuMetric(utilization int32) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{
			Type: autoscalingv2.UtilizationMetricType, AverageUtilization: new(utilization)}},
	}
}

// scaleUpDefaults: scale up at once, by up to 4 pods or 100% per 15s.
func scaleUpDefaults() autoscalingv2.HPAScalingRules {
	return autoscalingv2.HPAScalingRules{
		StabilizationWindowSeconds: new(int32(0)),
		SelectPolicy:               new(autoscalingv2.MaxChangePolicySelect),
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
}

// scaleDownDefaults: wait 5 minutes, then remove up to 100% per 15s.
func scaleDownDefaults() autoscalingv2.HPAScalingRules {
	return autoscalingv2.HPAScalingRules{
		StabilizationWindowSeconds: new(int32(300)),
		SelectPolicy:               new(autoscalingv2.MaxChangePolicySelect),
		Policies:                   []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}},
	}
}

// defaultRules fills the unset parts of r from d.
func defaultRules(r *autoscalingv2.HPAScalingRules, d autoscalingv2.HPAScalingRules) *autoscalingv2.HPAScalingRules {
	if r == nil {
		return &d
	}
	if r.StabilizationWindowSeconds == nil {
		r.StabilizationWindowSeconds = d.StabilizationWindowSeconds
	}
	if r.SelectPolicy == nil {
		r.SelectPolicy = d.SelectPolicy
	}
	if r.Policies == nil {
		r.Policies = d.Policies
	}
	return r
}

// Validate checks a new HPA.
func (HPAStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	h, errs := asV2(obj)
	errs = append(errs, apivalidation.ValidateObjectMeta(&h.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, metaPath)...)
	return append(errs, validateSpec(&h.Spec, specPath)...)
}

// ValidateUpdate checks an update; every spec field may change.
func (HPAStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	h, errs := asV2(obj)
	o, _ := asV2(old)
	errs = append(errs, apivalidation.ValidateObjectMetaUpdate(&h.ObjectMeta, &o.ObjectMeta, metaPath)...)
	return append(errs, validateSpec(&h.Spec, specPath)...)
}

// ValidateStatusUpdate checks a write to horizontalpodautoscalers/status.
func (HPAStrategy) ValidateStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	h, errs := asV2(obj)
	o, _ := asV2(old)
	errs = append(errs, apivalidation.ValidateObjectMetaUpdate(&h.ObjectMeta, &o.ObjectMeta, metaPath)...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(h.Status.CurrentReplicas), statusPath.Child("currentReplicas"))...)
	return append(errs, apivalidation.ValidateNonnegativeField(int64(h.Status.DesiredReplicas), statusPath.Child("desiredReplicas"))...)
}

// asV2 returns obj as a v2 HPA, converting a v1 one. A v1 annotation
// that does not decode is reported, and the rest is still converted so
// the spec fields validate too.
func asV2(obj runtime.Object) (*autoscalingv2.HorizontalPodAutoscaler, field.ErrorList) {
	v1, ok := obj.(*autoscalingv1.HorizontalPodAutoscaler)
	if !ok {
		return obj.(*autoscalingv2.HorizontalPodAutoscaler), nil
	}
	v2, err := V1ToV2(v1)
	if err == nil {
		return v2, nil
	}
	v2, _ = V1ToV2(withoutAnnotations(v1))
	return v2, field.ErrorList{field.Invalid(metaPath.Child("annotations"), "", err.Error())}
}

func hpaResource(version string) *registry.Resource {
	return &registry.Resource{
		Group: "autoscaling", Version: version, Resource: "horizontalpodautoscalers",
		Kind: "HorizontalPodAutoscaler", Singular: "horizontalpodautoscaler",
		ShortNames: []string{"hpa"}, Categories: []string{"all"},
		Namespaced: true,
		Strategy:   HPAStrategy{},
		HasStatus:  true,
	}
}

// Resources returns autoscaling/v2 (stored) and autoscaling/v1 HPAs.
func Resources() []*registry.Resource {
	v2 := hpaResource("v2")
	v2.New = func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscaler{} }
	v2.NewList = func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscalerList{} }
	v1 := hpaResource("v1")
	v1.New = func() runtime.Object { return &autoscalingv1.HorizontalPodAutoscaler{} }
	v1.NewList = func() runtime.Object { return &autoscalingv1.HorizontalPodAutoscalerList{} }
	v1.Conversion = &registry.Conversion{
		Storage:     v2.GVR(),
		ToStorage:   toStorage,
		FromStorage: fromStorage,
	}
	return []*registry.Resource{v2, v1}
}
