package autoscaling

import (
	"encoding/json"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Annotations in which autoscaling/v1 carries what only v2 can express,
// named as upstream so v1 clients see the same thing on both servers.
const (
	MetricsAnnotation        = "autoscaling.alpha.kubernetes.io/metrics"
	CurrentMetricsAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics"
	ConditionsAnnotation     = "autoscaling.alpha.kubernetes.io/conditions"
	BehaviorAnnotation       = "autoscaling.alpha.kubernetes.io/behavior"
)

// V2ToV1 converts a stored HPA to autoscaling/v1. The first CPU
// utilization metric becomes targetCPUUtilizationPercentage; other
// metrics, current metrics, conditions and behavior go to annotations.
func V2ToV1(in *autoscalingv2.HorizontalPodAutoscaler) (*autoscalingv1.HorizontalPodAutoscaler, error) {
	out := &autoscalingv1.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: *in.ObjectMeta.DeepCopy(),
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: refToV1(in.Spec.ScaleTargetRef), MinReplicas: in.Spec.MinReplicas, MaxReplicas: in.Spec.MaxReplicas,
		},
		Status: autoscalingv1.HorizontalPodAutoscalerStatus{
			ObservedGeneration: in.Status.ObservedGeneration, LastScaleTime: in.Status.LastScaleTime,
			CurrentReplicas: in.Status.CurrentReplicas, DesiredReplicas: in.Status.DesiredReplicas,
		},
	}
	var other []autoscalingv1.MetricSpec
	for _, m := range in.Spec.Metrics {
		if out.Spec.TargetCPUUtilizationPercentage == nil && isCPUUtilization(m.Resource) {
			out.Spec.TargetCPUUtilizationPercentage = new(*m.Resource.Target.AverageUtilization)
			continue
		}
		other = append(other, metricToV1(m))
	}
	var current []autoscalingv1.MetricStatus
	for _, m := range in.Status.CurrentMetrics {
		if out.Status.CurrentCPUUtilizationPercentage == nil && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU &&
			m.Resource.Current.AverageUtilization != nil {
			out.Status.CurrentCPUUtilizationPercentage = new(*m.Resource.Current.AverageUtilization)
			continue
		}
		current = append(current, metricStatusToV1(m))
	}
	var conds []autoscalingv1.HorizontalPodAutoscalerCondition
	for _, c := range in.Status.Conditions {
		conds = append(conds, autoscalingv1.HorizontalPodAutoscalerCondition{Type: autoscalingv1.HorizontalPodAutoscalerConditionType(c.Type),
			Status: c.Status, LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message, ObservedGeneration: c.ObservedGeneration})
	}
	for _, a := range []struct {
		key string
		v   any
		set bool
	}{
		{MetricsAnnotation, other, len(other) > 0}, {CurrentMetricsAnnotation, current, len(current) > 0},
		{ConditionsAnnotation, conds, len(conds) > 0}, {BehaviorAnnotation, in.Spec.Behavior, in.Spec.Behavior != nil},
	} {
		if err := setAnnotation(&out.ObjectMeta, a.key, a.v, a.set); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func isCPUUtilization(r *autoscalingv2.ResourceMetricSource) bool {
	return r != nil && r.Name == corev1.ResourceCPU && r.Target.Type == autoscalingv2.UtilizationMetricType &&
		r.Target.AverageUtilization != nil
}

func setAnnotation(m *metav1.ObjectMeta, key string, v any, set bool) error {
	if !set {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", key, err)
	}
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[key] = string(b)
	return nil
}

// V1ToV2 converts an autoscaling/v1 HPA to the stored v2 form, taking the
// v2-only data back out of the annotations.
func V1ToV2(in *autoscalingv1.HorizontalPodAutoscaler) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	out := &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: *in.ObjectMeta.DeepCopy(),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: refToV2(in.Spec.ScaleTargetRef), MinReplicas: in.Spec.MinReplicas, MaxReplicas: in.Spec.MaxReplicas,
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{
			ObservedGeneration: in.Status.ObservedGeneration, LastScaleTime: in.Status.LastScaleTime,
			CurrentReplicas: in.Status.CurrentReplicas, DesiredReplicas: in.Status.DesiredReplicas,
		},
	}
	var other []autoscalingv1.MetricSpec
	var current []autoscalingv1.MetricStatus
	var conds []autoscalingv1.HorizontalPodAutoscalerCondition
	for _, a := range []struct {
		key string
		dst any
	}{{MetricsAnnotation, &other}, {CurrentMetricsAnnotation, &current}, {ConditionsAnnotation, &conds}, {BehaviorAnnotation, &out.Spec.Behavior}} {
		if err := popAnnotation(&out.ObjectMeta, a.key, a.dst); err != nil {
			return nil, err
		}
	}
	for _, m := range other {
		out.Spec.Metrics = append(out.Spec.Metrics, metricToV2(m))
	}
	if t := in.Spec.TargetCPUUtilizationPercentage; t != nil {
		out.Spec.Metrics = append(out.Spec.Metrics, cpuMetric(*t))
	}
	for _, m := range current {
		out.Status.CurrentMetrics = append(out.Status.CurrentMetrics, metricStatusToV2(m))
	}
	if c := in.Status.CurrentCPUUtilizationPercentage; c != nil {
		out.Status.CurrentMetrics = append(out.Status.CurrentMetrics, autoscalingv2.MetricStatus{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU,
				Current: autoscalingv2.MetricValueStatus{AverageUtilization: new(*c)}},
		})
	}
	for _, c := range conds {
		out.Status.Conditions = append(out.Status.Conditions, autoscalingv2.HorizontalPodAutoscalerCondition{
			Type: autoscalingv2.HorizontalPodAutoscalerConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message, ObservedGeneration: c.ObservedGeneration})
	}
	return out, nil
}

func popAnnotation(m *metav1.ObjectMeta, key string, dst any) error {
	v, ok := m.Annotations[key]
	if !ok {
		return nil
	}
	if err := json.Unmarshal([]byte(v), dst); err != nil {
		return fmt.Errorf("decoding annotation %s: %w", key, err)
	}
	delete(m.Annotations, key)
	if len(m.Annotations) == 0 {
		m.Annotations = nil
	}
	return nil
}

// defaultV1 applies the autoscaling/v1 defaults plus the CPU target the
// v2 defaults would add, so v1 and v2 reads of one object agree.
func defaultV1(h *autoscalingv1.HorizontalPodAutoscaler) {
	if h.Spec.MinReplicas == nil {
		h.Spec.MinReplicas = new(int32(1))
	}
	if _, other := h.Annotations[MetricsAnnotation]; h.Spec.TargetCPUUtilizationPercentage == nil && !other {
		h.Spec.TargetCPUUtilizationPercentage = new(int32(DefaultCPUUtilization))
	}
}

func withoutAnnotations(h *autoscalingv1.HorizontalPodAutoscaler) *autoscalingv1.HorizontalPodAutoscaler {
	c := h.DeepCopy()
	for _, k := range []string{MetricsAnnotation, CurrentMetricsAnnotation, ConditionsAnnotation, BehaviorAnnotation} {
		delete(c.Annotations, k)
	}
	return c
}

func toStorage(obj runtime.Object) (runtime.Object, error) {
	switch h := obj.(type) {
	case *autoscalingv1.HorizontalPodAutoscaler:
		return V1ToV2(h)
	case *autoscalingv2.HorizontalPodAutoscaler:
		return h, nil
	}
	return nil, fmt.Errorf("autoscaling: cannot convert %T to autoscaling/v2", obj)
}

func fromStorage(obj runtime.Object) (runtime.Object, error) {
	switch h := obj.(type) {
	case *autoscalingv2.HorizontalPodAutoscaler:
		return V2ToV1(h)
	case *autoscalingv1.HorizontalPodAutoscaler:
		return h, nil
	}
	return nil, fmt.Errorf("autoscaling: cannot convert %T to autoscaling/v1", obj)
}
