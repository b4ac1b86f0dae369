package apps

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func statefulSet() *appsv1.StatefulSet {
	return &appsv1.StatefulSet{ObjectMeta: meta(), Spec: appsv1.StatefulSetSpec{
		Selector: selector(), Template: template(), ServiceName: "web",
		VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
			ObjectMeta: metav1.ObjectMeta{Name: "data"},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceStorage: resource.MustParse("1Gi")}},
			},
		}},
	}}
}

func TestStatefulSetDefaults(t *testing.T) {
	ss := statefulSet()
	StatefulSetStrategy{}.Default(ss)
	s := ss.Spec
	if *s.Replicas != 1 || s.PodManagementPolicy != appsv1.OrderedReadyPodManagement || *s.RevisionHistoryLimit != 10 {
		t.Errorf("replicas %d policy %q history %d", *s.Replicas, s.PodManagementPolicy, *s.RevisionHistoryLimit)
	}
	if s.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType || *s.UpdateStrategy.RollingUpdate.Partition != 0 {
		t.Errorf("updateStrategy = %+v", s.UpdateStrategy)
	}
	p := s.PersistentVolumeClaimRetentionPolicy
	if p.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType || p.WhenScaled != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
		t.Errorf("retention = %+v", p)
	}
	vct := s.VolumeClaimTemplates[0]
	if *vct.Spec.VolumeMode != corev1.PersistentVolumeFilesystem || vct.Status.Phase != corev1.ClaimPending || vct.Kind != "PersistentVolumeClaim" {
		t.Errorf("claim template = %+v", vct)
	}
}

func TestStatefulSetValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*appsv1.StatefulSet)
		typ    field.ErrorType
		path   string
	}{
		{"valid", func(*appsv1.StatefulSet) {}, "", ""},
		{"bad policy", func(s *appsv1.StatefulSet) { s.Spec.PodManagementPolicy = "Random" },
			field.ErrorTypeNotSupported, "spec.podManagementPolicy"},
		{"negative partition", func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: int32Ptr(-1)}
		}, field.ErrorTypeInvalid, "spec.updateStrategy.rollingUpdate.partition"},
		{"ondelete with rollingUpdate", func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{}}
		}, field.ErrorTypeInvalid, "spec.updateStrategy.rollingUpdate"},
		{"bad retention", func(s *appsv1.StatefulSet) {
			s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: "Keep"}
		}, field.ErrorTypeNotSupported, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted"},
		{"claim without access modes", func(s *appsv1.StatefulSet) { s.Spec.VolumeClaimTemplates[0].Spec.AccessModes = nil },
			field.ErrorTypeRequired, "spec.volumeClaimTemplates[0].spec.accessModes"},
		{"selector mismatch", func(s *appsv1.StatefulSet) { s.Spec.Template.Labels = nil },
			field.ErrorTypeInvalid, "spec.template.metadata.labels"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := statefulSet()
			tc.mutate(s)
			checkCase(t, StatefulSetStrategy{}, s, tc.typ, tc.path)
		})
	}
}

func TestStatefulSetUpdate(t *testing.T) {
	old := statefulSet()
	StatefulSetStrategy{}.Default(old)
	allowed := old.DeepCopy()
	allowed.Spec.Replicas = int32Ptr(3)
	allowed.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	if errs := (StatefulSetStrategy{}).ValidateUpdate(ctx, allowed, old); len(errs) != 0 {
		t.Errorf("allowed update rejected: %v", errs)
	}
	forbidden := old.DeepCopy()
	forbidden.Spec.ServiceName = "other"
	if errs := (StatefulSetStrategy{}).ValidateUpdate(ctx, forbidden, old); !hasError(errs, field.ErrorTypeForbidden, "spec") {
		t.Errorf("serviceName change accepted: %v", errs)
	}
}
