package autoscaling

import (
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func fullV2() *autoscalingv2.HorizontalPodAutoscaler {
	h := hpa()
	h.Annotations = map[string]string{"keep": "me"}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}
	q := resource.MustParse("10")
	h.Spec.MinReplicas = new(int32(2))
	h.Spec.Metrics = []autoscalingv2.MetricSpec{
		{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: "rps", Selector: sel},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q}}},
		{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
			DescribedObject: autoscalingv2.CrossVersionObjectReference{Kind: "Ingress", Name: "main"},
			Metric:          autoscalingv2.MetricIdentifier{Name: "hits"},
			Target:          autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: &q}}},
		{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: "queue"},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q}}},
		{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
			Name: corev1.ResourceMemory, Container: "app",
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: new(int32(70))}}},
		cpuMetric(50),
	}
	h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: new(scaleUpDefaults())}
	h.Status = autoscalingv2.HorizontalPodAutoscalerStatus{
		CurrentReplicas: 3, DesiredReplicas: 4, ObservedGeneration: new(int64(2)),
		CurrentMetrics: []autoscalingv2.MetricStatus{
			{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricStatus{
				Metric: autoscalingv2.MetricIdentifier{Name: "rps"}, Current: autoscalingv2.MetricValueStatus{AverageValue: &q}}},
			{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
				Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: new(int32(40))}}},
		},
		Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)), Reason: "ReadyForNewScale"}},
	}
	return h
}

func TestV2ToV1(t *testing.T) {
	v1, err := V2ToV1(fullV2())
	if err != nil {
		t.Fatal(err)
	}
	if v1.Spec.TargetCPUUtilizationPercentage == nil || *v1.Spec.TargetCPUUtilizationPercentage != 50 {
		t.Errorf("targetCPU = %v", v1.Spec.TargetCPUUtilizationPercentage)
	}
	if v1.Status.CurrentCPUUtilizationPercentage == nil || *v1.Status.CurrentCPUUtilizationPercentage != 40 {
		t.Errorf("currentCPU = %v", v1.Status.CurrentCPUUtilizationPercentage)
	}
	for _, k := range []string{MetricsAnnotation, CurrentMetricsAnnotation, ConditionsAnnotation, BehaviorAnnotation, "keep"} {
		if v1.Annotations[k] == "" {
			t.Errorf("annotation %s missing", k)
		}
	}
	want := `[{"type":"Pods","pods":{"metricName":"rps","targetAverageValue":"10","selector":{"matchLabels":{"a":"b"}}}},`
	if got := v1.Annotations[MetricsAnnotation]; len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("metrics annotation = %s", got)
	}
}

func TestRoundTrip(t *testing.T) {
	in := fullV2()
	v1, err := V2ToV1(in)
	if err != nil {
		t.Fatal(err)
	}
	back, err := V1ToV2(v1)
	if err != nil {
		t.Fatal(err)
	}
	if !apiequality.Semantic.DeepEqual(back.ObjectMeta, in.ObjectMeta) {
		t.Errorf("metadata differs: %v", back.Annotations)
	}
	// The CPU metric moves last, as upstream; the rest keeps its order.
	if !apiequality.Semantic.DeepEqual(back.Spec, in.Spec) {
		t.Errorf("spec differs:\n got %+v\nwant %+v", back.Spec, in.Spec)
	}
	wantStatus := in.Status
	if !apiequality.Semantic.DeepEqual(back.Status, wantStatus) {
		t.Errorf("status differs:\n got %+v\nwant %+v", back.Status, wantStatus)
	}
	v1again, _ := V2ToV1(back)
	if !apiequality.Semantic.DeepEqual(v1again, v1) {
		t.Errorf("v1 round trip differs")
	}
}

func TestV1Strategy(t *testing.T) {
	v1 := &autoscalingv1.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{MaxReplicas: 3,
			ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{Kind: "Deployment", Name: "web"}},
	}
	HPAStrategy{}.Default(v1)
	if *v1.Spec.MinReplicas != 1 || *v1.Spec.TargetCPUUtilizationPercentage != 80 {
		t.Errorf("v1 defaults: %+v", v1.Spec)
	}
	if errs := (HPAStrategy{}).Validate(ctx, v1); len(errs) != 0 {
		t.Errorf("valid v1 rejected: %v", errs)
	}
	v1.Spec.TargetCPUUtilizationPercentage = new(int32(0))
	errs := HPAStrategy{}.Validate(ctx, v1)
	if len(errs) != 1 || errs[0].Field != "spec.metrics[0].resource.target.averageUtilization" {
		t.Errorf("got %v", errs)
	}
	v1.Annotations = map[string]string{MetricsAnnotation: "{not json"}
	errs = HPAStrategy{}.Validate(ctx, v1)
	if len(errs) == 0 || errs[0].Type != field.ErrorTypeInvalid || errs[0].Field != "metadata.annotations" {
		t.Errorf("bad annotation: %v", errs)
	}
	obj, err := toStorage(&autoscalingv1.HorizontalPodAutoscaler{Spec: autoscalingv1.HorizontalPodAutoscalerSpec{TargetCPUUtilizationPercentage: new(int32(60))}})
	if err != nil || !isCPUUtilization(obj.(*autoscalingv2.HorizontalPodAutoscaler).Spec.Metrics[0].Resource) {
		t.Errorf("toStorage: %v %v", obj, err)
	}
	if _, err := fromStorage(&corev1.Pod{}); err == nil {
		t.Error("fromStorage accepted a Pod")
	}
}
