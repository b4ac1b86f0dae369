package printers

import (
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestStorageCells(t *testing.T) {
	m := objMeta("data", 24*time.Hour)
	pv := &corev1.PersistentVolume{ObjectMeta: m, Spec: corev1.PersistentVolumeSpec{
		Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
		AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany, corev1.ReadWriteOnce, corev1.ReadWriteOnce},
		PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
		ClaimRef:                      &corev1.ObjectReference{Namespace: "default", Name: "data"},
		StorageClassName:              "fast", VolumeMode: ptr(corev1.PersistentVolumeFilesystem),
	}, Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound}}
	runCells(t, core("persistentvolumes"), []cellCase{{"bound", pv, []interface{}{
		"data", "10Gi", "RWO,RWX", "Retain", "Bound", "default/data", "fast", "<unset>", "", "24h", "Filesystem"}}})

	bound := &corev1.PersistentVolumeClaim{ObjectMeta: m,
		Spec: corev1.PersistentVolumeClaimSpec{VolumeName: "pv-1", StorageClassName: ptr("fast"), VolumeAttributesClassName: ptr("gold")},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod},
			Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("5Gi")}}}
	pending := &corev1.PersistentVolumeClaim{ObjectMeta: m, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}}
	pending.Annotations = map[string]string{"volume.beta.kubernetes.io/storage-class": "legacy"}
	runCells(t, core("persistentvolumeclaims"), []cellCase{
		{"bound", bound, []interface{}{"data", "Bound", "pv-1", "5Gi", "RWOP", "fast", "gold", "24h", "<unset>"}},
		{"pending", pending, []interface{}{"data", "Pending", "", "", "", "legacy", "<unset>", "24h", "<unset>"}},
	})

	sc := &storagev1.StorageClass{ObjectMeta: m, Provisioner: "rancher.io/local-path",
		VolumeBindingMode: ptr(storagev1.VolumeBindingWaitForFirstConsumer)}
	sc.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}
	plain := &storagev1.StorageClass{ObjectMeta: objMeta("ssd", time.Hour), Provisioner: "csi.example.com",
		ReclaimPolicy: ptr(corev1.PersistentVolumeReclaimRetain), AllowVolumeExpansion: ptr(true)}
	runCells(t, schema.GroupResource{Group: "storage.k8s.io", Resource: "storageclasses"}, []cellCase{
		{"default", sc, []interface{}{"data (default)", "rancher.io/local-path", "Delete", "WaitForFirstConsumer", false, "24h"}},
		{"plain", plain, []interface{}{"ssd", "csi.example.com", "Retain", "Immediate", true, "60m"}},
	})
}

func TestEndpointSliceAndLeaseCells(t *testing.T) {
	m := objMeta("web-abc", 7*time.Minute)
	eps := make([]discoveryv1.Endpoint, 0, 5)
	for _, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"} {
		eps = append(eps, discoveryv1.Endpoint{Addresses: []string{ip}})
	}
	runCells(t, schema.GroupResource{Group: "discovery.k8s.io", Resource: "endpointslices"}, []cellCase{
		{"many", &discoveryv1.EndpointSlice{ObjectMeta: m, AddressType: discoveryv1.AddressTypeIPv4, Endpoints: eps,
			Ports: []discoveryv1.EndpointPort{{Port: ptr(int32(80))}, {Name: ptr("metrics")}}},
			[]interface{}{"web-abc", "IPv4", "80,metrics", "10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...", "7m"}},
		{"empty", &discoveryv1.EndpointSlice{ObjectMeta: m, AddressType: discoveryv1.AddressTypeIPv6},
			[]interface{}{"web-abc", "IPv6", "<unset>", "<unset>", "7m"}},
	})
	runCells(t, schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, []cellCase{
		{"held", &coordinationv1.Lease{ObjectMeta: m, Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("node-a")}}, []interface{}{"web-abc", "node-a", "7m"}},
		{"free", &coordinationv1.Lease{ObjectMeta: m}, []interface{}{"web-abc", "", "7m"}},
	})
}

func TestPolicyAndSchedulingCells(t *testing.T) {
	m := objMeta("p", 30*24*time.Hour)
	minA := intstr.FromInt32(2)
	maxU := intstr.FromString("25%")
	runCells(t, schema.GroupResource{Group: "policy", Resource: "poddisruptionbudgets"}, []cellCase{
		{"min", &policyv1.PodDisruptionBudget{ObjectMeta: m, Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &minA},
			Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1}}, []interface{}{"p", "2", "N/A", int64(1), "30d"}},
		{"max", &policyv1.PodDisruptionBudget{ObjectMeta: m, Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &maxU}},
			[]interface{}{"p", "N/A", "25%", int64(0), "30d"}},
	})
	runCells(t, schema.GroupResource{Group: "scheduling.k8s.io", Resource: "priorityclasses"}, []cellCase{
		{"system", &schedulingv1.PriorityClass{ObjectMeta: m, Value: 2000001000, PreemptionPolicy: ptr(corev1.PreemptNever)},
			[]interface{}{"p", int64(2000001000), false, "30d", "Never"}},
		{"default policy", &schedulingv1.PriorityClass{ObjectMeta: m, Value: 10, GlobalDefault: true},
			[]interface{}{"p", int64(10), true, "30d", "PreemptLowerPriority"}},
	})
}

func TestHPACells(t *testing.T) {
	m := objMeta("web", time.Hour)
	ref := autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"}
	util := func(p int32) *int32 { return &p }
	cpu := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: util(50)}}}
	mem := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceMemory, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr(resource.MustParse("512Mi"))}}}
	pods := autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr(resource.MustParse("1k"))}}}
	v2 := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: m,
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: ref, MinReplicas: ptr(int32(2)), MaxReplicas: 10,
			Metrics: []autoscalingv2.MetricSpec{cpu, mem, pods}},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 3, CurrentMetrics: []autoscalingv2.MetricStatus{{
			Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
				Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: util(37)}}}}}}
	v1 := &autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: m, Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: autoscalingv1.CrossVersionObjectReference(ref), MaxReplicas: 5, TargetCPUUtilizationPercentage: ptr(int32(70))}}
	runCells(t, schema.GroupResource{Group: "autoscaling", Resource: "horizontalpodautoscalers"}, []cellCase{
		{"v2 three metrics", v2, []interface{}{"web", "Deployment/web", "cpu: 37%/50%, memory: <unknown>/512Mi + 1 more...", "2", int64(10), int64(3), "60m"}},
		{"v1", v1, []interface{}{"web", "Deployment/web", "cpu: <unknown>/70%", "<unset>", int64(5), int64(0), "60m"}},
		{"v2 no metrics", &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: m, Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: ref, MaxReplicas: 1}},
			[]interface{}{"web", "Deployment/web", "<none>", "<unset>", int64(1), int64(0), "60m"}},
	})
}

func TestHPAUnstructuredV1(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
		"metadata": map[string]interface{}{"name": "web"},
		"spec": map[string]interface{}{"scaleTargetRef": map[string]interface{}{"kind": "Deployment", "name": "web"},
			"maxReplicas": int64(4), "targetCPUUtilizationPercentage": int64(60)},
		"status": map[string]interface{}{"currentReplicas": int64(2), "currentCPUUtilizationPercentage": int64(12)},
	}}
	cells, err := For(schema.GroupResource{Group: "autoscaling", Resource: "horizontalpodautoscalers"}).Cells(u, now)
	if err != nil {
		t.Fatal(err)
	}
	if cells[2] != "cpu: 12%/60%" || cells[4] != int64(4) || cells[5] != int64(2) {
		t.Errorf("cells = %v", cells)
	}
}
