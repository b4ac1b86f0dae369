package apps

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/registry/core"
)

// StatefulSetStrategy implements registry.Strategy for apps/v1 StatefulSets.
type StatefulSetStrategy struct{ registry.BaseStrategy }

var _ registry.StatusValidator = StatefulSetStrategy{}

// Default applies the apps/v1 StatefulSet defaults, including the
// PersistentVolumeClaim defaults of each volume claim template.
func (StatefulSetStrategy) Default(obj runtime.Object) {
	ss := obj.(*appsv1.StatefulSet)
	s := &ss.Spec
	core.DefaultPodTemplateSpec(&s.Template)
	if s.PodManagementPolicy == "" {
		s.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	if s.UpdateStrategy.Type == "" {
		s.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
	}
	if s.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType {
		if s.UpdateStrategy.RollingUpdate == nil {
			s.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
		if s.UpdateStrategy.RollingUpdate.Partition == nil {
			s.UpdateStrategy.RollingUpdate.Partition = int32Ptr(0)
		}
	}
	if s.Replicas == nil {
		s.Replicas = int32Ptr(1)
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = int32Ptr(10)
	}
	if s.PersistentVolumeClaimRetentionPolicy == nil {
		s.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	p := s.PersistentVolumeClaimRetentionPolicy
	if p.WhenDeleted == "" {
		p.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if p.WhenScaled == "" {
		p.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	for i := range s.VolumeClaimTemplates {
		defaultClaimTemplate(&s.VolumeClaimTemplates[i])
	}
}

// Validate checks a new StatefulSet.
func (StatefulSetStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	ss := obj.(*appsv1.StatefulSet)
	return append(validateMeta(&ss.ObjectMeta), validateStatefulSetSpec(&ss.Spec, specPath)...)
}

// ValidateUpdate checks an update. Only a few spec fields may change
// because pods and claims already exist for the others.
func (StatefulSetStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	ss, o := obj.(*appsv1.StatefulSet), old.(*appsv1.StatefulSet)
	errs := validateMetaUpdate(&ss.ObjectMeta, &o.ObjectMeta)
	errs = append(errs, validateStatefulSetSpec(&ss.Spec, specPath)...)
	masked := *o.Spec.DeepCopy()
	// Stored claim templates lose apiVersion and kind (protobuf has no
	// TypeMeta for embedded objects) while the update was just defaulted:
	// default the old ones too, or no update would ever pass.
	for i := range masked.VolumeClaimTemplates {
		defaultClaimTemplate(&masked.VolumeClaimTemplates[i])
	}
	masked.Replicas = ss.Spec.Replicas
	masked.Ordinals = ss.Spec.Ordinals
	masked.Template = ss.Spec.Template
	masked.UpdateStrategy = ss.Spec.UpdateStrategy
	masked.MinReadySeconds = ss.Spec.MinReadySeconds
	masked.RevisionHistoryLimit = ss.Spec.RevisionHistoryLimit
	masked.PersistentVolumeClaimRetentionPolicy = ss.Spec.PersistentVolumeClaimRetentionPolicy
	if !apiequality.Semantic.DeepEqual(masked, ss.Spec) {
		errs = append(errs, field.Forbidden(specPath, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
	}
	return errs
}

// ValidateStatusUpdate checks a write to statefulsets/status.
func (StatefulSetStrategy) ValidateStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	ss, o := obj.(*appsv1.StatefulSet), old.(*appsv1.StatefulSet)
	s := &ss.Status
	errs := validateMetaUpdate(&ss.ObjectMeta, &o.ObjectMeta)
	errs = append(errs, nonNegative(statusPath,
		count{"replicas", int64(s.Replicas)},
		count{"readyReplicas", int64(s.ReadyReplicas)},
		count{"currentReplicas", int64(s.CurrentReplicas)},
		count{"updatedReplicas", int64(s.UpdatedReplicas)},
		count{"availableReplicas", int64(s.AvailableReplicas)},
		count{"observedGeneration", s.ObservedGeneration})...)
	errs = append(errs, nonNegativePtr(s.CollisionCount, statusPath.Child("collisionCount"))...)
	errs = append(errs, replicasLE(s.ReadyReplicas, s.Replicas, statusPath.Child("readyReplicas"), "status.replicas")...)
	errs = append(errs, replicasLE(s.CurrentReplicas, s.Replicas, statusPath.Child("currentReplicas"), "status.replicas")...)
	errs = append(errs, replicasLE(s.UpdatedReplicas, s.Replicas, statusPath.Child("updatedReplicas"), "status.replicas")...)
	errs = append(errs, replicasLE(s.AvailableReplicas, s.Replicas, statusPath.Child("availableReplicas"), "status.replicas")...)
	return append(errs, replicasLE(s.AvailableReplicas, s.ReadyReplicas, statusPath.Child("availableReplicas"), "status.readyReplicas")...)
}

func validateStatefulSetSpec(s *appsv1.StatefulSetSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch s.PodManagementPolicy {
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		errs = append(errs, field.NotSupported(fld.Child("podManagementPolicy"), s.PodManagementPolicy,
			[]appsv1.PodManagementPolicyType{appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement}))
	}
	errs = append(errs, validateStatefulSetUpdateStrategy(&s.UpdateStrategy, fld.Child("updateStrategy"))...)
	errs = append(errs, validateRetentionPolicy(s.PersistentVolumeClaimRetentionPolicy, fld.Child("persistentVolumeClaimRetentionPolicy"))...)
	errs = append(errs, nonNegativePtr(s.Replicas, fld.Child("replicas"))...)
	errs = append(errs, nonNegativePtr(s.RevisionHistoryLimit, fld.Child("revisionHistoryLimit"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.MinReadySeconds), fld.Child("minReadySeconds"))...)
	if s.Ordinals != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.Ordinals.Start), fld.Child("ordinals", "start"))...)
	}
	errs = append(errs, validateSelector(s.Selector, "statefulset", fld.Child("selector"))...)
	errs = append(errs, validateTemplateForController(&s.Template, s.Selector, fld.Child("template"))...)
	for i := range s.VolumeClaimTemplates {
		errs = append(errs, validateClaimTemplate(&s.VolumeClaimTemplates[i], fld.Child("volumeClaimTemplates").Index(i))...)
	}
	return errs
}

func validateStatefulSetUpdateStrategy(st *appsv1.StatefulSetUpdateStrategy, fld *field.Path) field.ErrorList {
	switch st.Type {
	case appsv1.OnDeleteStatefulSetStrategyType:
		if st.RollingUpdate != nil {
			return field.ErrorList{field.Invalid(fld.Child("rollingUpdate"), st.RollingUpdate, "only allowed for updateStrategy 'RollingUpdate'")}
		}
	case appsv1.RollingUpdateStatefulSetStrategyType:
		if st.RollingUpdate == nil {
			return nil
		}
		ru := fld.Child("rollingUpdate")
		errs := nonNegativePtr(st.RollingUpdate.Partition, ru.Child("partition"))
		if mu := st.RollingUpdate.MaxUnavailable; mu != nil {
			errs = append(errs, validateIntOrPercent(mu, ru.Child("maxUnavailable"))...)
			errs = append(errs, notMoreThan100Percent(mu, ru.Child("maxUnavailable"))...)
			if n, _ := percentOrInt(mu); n == 0 {
				errs = append(errs, field.Invalid(ru.Child("maxUnavailable"), valueOf(mu), "must be greater than 0"))
			}
		}
		return errs
	case "":
		return field.ErrorList{field.Required(fld.Child("type"), "must be 'RollingUpdate' or 'OnDelete'")}
	default:
		return field.ErrorList{field.NotSupported(fld.Child("type"), st.Type, []appsv1.StatefulSetUpdateStrategyType{
			appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType})}
	}
	return nil
}

func validateRetentionPolicy(p *appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy, fld *field.Path) field.ErrorList {
	if p == nil {
		return nil
	}
	valid := []appsv1.PersistentVolumeClaimRetentionPolicyType{
		appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType}
	var errs field.ErrorList
	if p.WhenDeleted != valid[0] && p.WhenDeleted != valid[1] {
		errs = append(errs, field.NotSupported(fld.Child("whenDeleted"), p.WhenDeleted, valid))
	}
	if p.WhenScaled != valid[0] && p.WhenScaled != valid[1] {
		errs = append(errs, field.NotSupported(fld.Child("whenScaled"), p.WhenScaled, valid))
	}
	return errs
}

func statefulSetResource() *registry.Resource {
	return &registry.Resource{
		Group: "apps", Version: "v1", Resource: "statefulsets",
		Kind: "StatefulSet", Singular: "statefulset",
		ShortNames: []string{"sts"}, Categories: []string{"all"},
		Namespaced: true,
		New:        func() runtime.Object { return &appsv1.StatefulSet{} },
		NewList:    func() runtime.Object { return &appsv1.StatefulSetList{} },
		Strategy:   StatefulSetStrategy{},
		HasStatus:  true,
		Scale: &registry.Scale{
			Get: func(obj runtime.Object) (int32, int32, string) {
				ss := obj.(*appsv1.StatefulSet)
				return deref(ss.Spec.Replicas), ss.Status.Replicas, selectorString(ss.Spec.Selector)
			},
			Set: func(obj runtime.Object, n int32) { obj.(*appsv1.StatefulSet).Spec.Replicas = &n },
		},
	}
}
