package printers

import (
	"fmt"
	"strings"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// defaultCPUTarget is the utilisation the HPA controller aims for when a
// v1 object names no target.
const defaultCPUTarget = 80

func init() {
	register("autoscaling", "horizontalpodautoscalers", hpaPrinter{})
}

// hpaPrinter serves both autoscaling/v1 and v2: the resource is the same,
// only the version differs, and the group/resource key cannot tell them
// apart.
type hpaPrinter struct{}

func (hpaPrinter) Columns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameCol(),
		str("Reference", "The scaled workload."),
		str("Targets", "Current and target metric values."),
		str("MinPods", "Lower replica limit."),
		num("MaxPods", "Upper replica limit."),
		num("Replicas", "Current number of replicas."),
		ageCol(),
	}
}

func (hpaPrinter) Cells(obj runtime.Object, now time.Time) ([]interface{}, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok && u.GetAPIVersion() == "autoscaling/v1" {
		v1, err := as[*autoscalingv1.HorizontalPodAutoscaler](u)
		if err != nil {
			return nil, err
		}
		obj = v1
	}
	if v1, ok := obj.(*autoscalingv1.HorizontalPodAutoscaler); ok {
		obj = hpaV1ToV2(v1)
	}
	h, err := as[*autoscalingv2.HorizontalPodAutoscaler](obj)
	if err != nil {
		return nil, err
	}
	minPods := unset
	if h.Spec.MinReplicas != nil {
		minPods = fmt.Sprintf("%d", *h.Spec.MinReplicas)
	}
	ref := h.Spec.ScaleTargetRef.Kind + "/" + h.Spec.ScaleTargetRef.Name
	return []interface{}{
		h.Name, ref, hpaTargets(h.Spec.Metrics, h.Status.CurrentMetrics), minPods,
		int64(h.Spec.MaxReplicas), int64(h.Status.CurrentReplicas), age(h.ObjectMeta, now),
	}, nil
}

// hpaV1ToV2 expresses the v1 CPU target as a v2 resource metric.
func hpaV1ToV2(v1 *autoscalingv1.HorizontalPodAutoscaler) *autoscalingv2.HorizontalPodAutoscaler {
	target := int32(defaultCPUTarget)
	if v1.Spec.TargetCPUUtilizationPercentage != nil {
		target = *v1.Spec.TargetCPUUtilizationPercentage
	}
	out := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: v1.ObjectMeta,
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference(v1.Spec.ScaleTargetRef),
			MinReplicas:    v1.Spec.MinReplicas,
			MaxReplicas:    v1.Spec.MaxReplicas,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{
					Name:   corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target},
				},
			}},
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: v1.Status.CurrentReplicas},
	}
	if cur := v1.Status.CurrentCPUUtilizationPercentage; cur != nil {
		out.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricStatus{
				Name:    corev1.ResourceCPU,
				Current: autoscalingv2.MetricValueStatus{AverageUtilization: cur},
			},
		}}
	}
	return out
}

// hpaTargets renders "current/target" per metric, at most two of them.
func hpaTargets(specs []autoscalingv2.MetricSpec, statuses []autoscalingv2.MetricStatus) string {
	if len(specs) == 0 {
		return none
	}
	list := make([]string, 0, len(specs))
	for i, s := range specs {
		var st *autoscalingv2.MetricStatus
		if i < len(statuses) {
			st = &statuses[i]
		}
		list = append(list, hpaMetric(s, st))
	}
	const max = 2
	if len(list) > max {
		return fmt.Sprintf("%s + %d more...", strings.Join(list[:max], ", "), len(list)-max)
	}
	return strings.Join(list, ", ")
}

func hpaMetric(s autoscalingv2.MetricSpec, st *autoscalingv2.MetricStatus) string {
	switch s.Type {
	case autoscalingv2.ExternalMetricSourceType:
		if s.External == nil {
			break
		}
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.External != nil {
			cur = &st.External.Current
		}
		return valueTarget(s.External.Target, cur)
	case autoscalingv2.ObjectMetricSourceType:
		if s.Object == nil {
			break
		}
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.Object != nil {
			cur = &st.Object.Current
		}
		return valueTarget(s.Object.Target, cur)
	case autoscalingv2.PodsMetricSourceType:
		if s.Pods == nil {
			break
		}
		current := unknown
		if st != nil && st.Pods != nil && st.Pods.Current.AverageValue != nil {
			current = st.Pods.Current.AverageValue.String()
		}
		return current + "/" + quantityString(s.Pods.Target.AverageValue)
	case autoscalingv2.ResourceMetricSourceType:
		if s.Resource == nil {
			break
		}
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.Resource != nil {
			cur = &st.Resource.Current
		}
		return string(s.Resource.Name) + ": " + resourceTarget(s.Resource.Target, cur)
	case autoscalingv2.ContainerResourceMetricSourceType:
		if s.ContainerResource == nil {
			break
		}
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.ContainerResource != nil {
			cur = &st.ContainerResource.Current
		}
		return string(s.ContainerResource.Name) + ": " + resourceTarget(s.ContainerResource.Target, cur)
	}
	return "<unknown type>"
}

// valueTarget handles object and external metrics, which target either an
// average ("(avg)") or a total value.
func valueTarget(t autoscalingv2.MetricTarget, cur *autoscalingv2.MetricValueStatus) string {
	current := unknown
	if t.AverageValue != nil {
		if cur != nil && cur.AverageValue != nil {
			current = cur.AverageValue.String()
		}
		return fmt.Sprintf("%s/%s (avg)", current, t.AverageValue.String())
	}
	if cur != nil && cur.Value != nil {
		current = cur.Value.String()
	}
	return current + "/" + quantityString(t.Value)
}

// resourceTarget handles resource metrics: an average value, or a
// utilisation percentage.
func resourceTarget(t autoscalingv2.MetricTarget, cur *autoscalingv2.MetricValueStatus) string {
	current := unknown
	if t.AverageValue != nil {
		if cur != nil && cur.AverageValue != nil {
			current = cur.AverageValue.String()
		}
		return current + "/" + t.AverageValue.String()
	}
	if cur != nil && cur.AverageUtilization != nil {
		current = fmt.Sprintf("%d%%", *cur.AverageUtilization)
	}
	target := "<auto>"
	if t.AverageUtilization != nil {
		target = fmt.Sprintf("%d%%", *t.AverageUtilization)
	}
	return current + "/" + target
}
