package autoscaling

import (
	"context"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var ctx = context.Background()

func hpa() *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", ResourceVersion: "1"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 5,
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"}},
	}
}

func TestDefaults(t *testing.T) {
	h := hpa()
	HPAStrategy{}.Default(h)
	if *h.Spec.MinReplicas != 1 || len(h.Spec.Metrics) != 1 || !isCPUUtilization(h.Spec.Metrics[0].Resource) ||
		*h.Spec.Metrics[0].Resource.Target.AverageUtilization != 80 {
		t.Errorf("defaults: %+v", h.Spec)
	}
	if h.Spec.Behavior != nil {
		t.Error("behavior defaulted although unset")
	}
	h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: new(int32(60))}}
	HPAStrategy{}.Default(h)
	up, down := h.Spec.Behavior.ScaleUp, h.Spec.Behavior.ScaleDown
	if *up.StabilizationWindowSeconds != 0 || *up.SelectPolicy != autoscalingv2.MaxChangePolicySelect || len(up.Policies) != 2 ||
		up.Policies[0] != (autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15}) {
		t.Errorf("scaleUp: %+v", up)
	}
	if *down.StabilizationWindowSeconds != 60 || *down.SelectPolicy != autoscalingv2.MaxChangePolicySelect ||
		down.Policies[0] != (autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}) {
		t.Errorf("scaleDown: %+v", down)
	}
}

func TestValidate(t *testing.T) {
	memory := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceMemory, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: new(resource.MustParse("100Mi"))}}}
	cases := []struct {
		name   string
		mutate func(*autoscalingv2.HorizontalPodAutoscaler)
		typ    field.ErrorType
		path   string
	}{
		{"valid", func(*autoscalingv2.HorizontalPodAutoscaler) {}, "", ""},
		{"memory", func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.Metrics = append(h.Spec.Metrics, memory) }, "", ""},
		{"min zero", func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MinReplicas = new(int32(0)) }, field.ErrorTypeInvalid, "spec.minReplicas"},
		{"max zero", func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MaxReplicas = 0 }, field.ErrorTypeInvalid, "spec.maxReplicas"},
		{"min and max zero", func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.MaxReplicas = 0
			h.Spec.MinReplicas = new(int32(0))
		},
			field.ErrorTypeInvalid, "spec.minReplicas"},
		{"max below min", func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MinReplicas = new(int32(9)) }, field.ErrorTypeInvalid, "spec.maxReplicas"},
		{"no target kind", func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.ScaleTargetRef.Kind = "" }, field.ErrorTypeRequired, "spec.scaleTargetRef.kind"},
		{"zero utilization", func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Metrics = []autoscalingv2.MetricSpec{cpuMetric(0)}
		}, field.ErrorTypeInvalid, "spec.metrics[0].resource.target.averageUtilization"},
		{"missing source", func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.PodsMetricSourceType}}
		}, field.ErrorTypeRequired, "spec.metrics[0].pods"},
		{"bad metric type", func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Metrics = []autoscalingv2.MetricSpec{{Type: "Magic"}}
		}, field.ErrorTypeNotSupported, "spec.metrics[0].type"},
		{"long window", func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: new(int32(4000))}}
		}, field.ErrorTypeInvalid, "spec.behavior.scaleUp.stabilizationWindowSeconds"},
		{"bad policy period", func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{
				Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 0}}}}
		}, field.ErrorTypeInvalid, "spec.behavior.scaleDown.policies[0].periodSeconds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := hpa()
			tc.mutate(h)
			HPAStrategy{}.Default(h)
			errs := HPAStrategy{}.Validate(ctx, h)
			if tc.path == "" {
				if len(errs) != 0 {
					t.Fatalf("unexpected: %v", errs)
				}
				return
			}
			if len(errs) == 0 || errs[0].Type != tc.typ || errs[0].Field != tc.path {
				t.Fatalf("want %s at %s, got %v", tc.typ, tc.path, errs)
			}
		})
	}
}

func TestStatusValidate(t *testing.T) {
	old := hpa()
	h := old.DeepCopy()
	h.Status.DesiredReplicas = -1
	errs := HPAStrategy{}.ValidateStatusUpdate(ctx, h, old)
	if len(errs) != 1 || errs[0].Field != "status.desiredReplicas" {
		t.Errorf("got %v", errs)
	}
}

func TestResources(t *testing.T) {
	rs := Resources()
	if len(rs) != 2 || rs[0].Version != "v2" || rs[1].Version != "v1" || rs[0].Conversion != nil || rs[1].Conversion == nil {
		t.Fatalf("unexpected resources %+v", rs)
	}
	for _, r := range rs {
		if r.ShortNames[0] != "hpa" || r.Categories[0] != "all" || !r.HasStatus || !r.Namespaced {
			t.Errorf("%s: %+v", r.Version, r)
		}
	}
	if rs[1].Conversion.Storage != rs[0].GVR() {
		t.Errorf("v1 storage = %v", rs[1].Conversion.Storage)
	}
	if _, ok := rs[1].New().(*autoscalingv1.HorizontalPodAutoscaler); !ok {
		t.Error("v1 New returns the wrong type")
	}
}
