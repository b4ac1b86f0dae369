// Package storageapi holds the strategy and registry entry of
// storage.k8s.io/v1 StorageClasses (the directory is registry/storage; the
// name avoids confusion with navarch's etcd storage package). It applies
// defaults and validates; it must not do I/O or provision volumes.
package storageapi

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

// Limits on provisioner parameters, which are passed to the provisioner
// as-is and so must stay small.
const (
	maxParameters     = 512
	maxParametersSize = 256 * 1024
)

var (
	supportedReclaim = []corev1.PersistentVolumeReclaimPolicy{corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRetain}
	supportedBinding = []storagev1.VolumeBindingMode{storagev1.VolumeBindingImmediate, storagev1.VolumeBindingWaitForFirstConsumer}
)

// StorageClassStrategy implements registry.Strategy for StorageClasses.
type StorageClassStrategy struct{ registry.BaseStrategy }

// Default sets reclaimPolicy Delete and volumeBindingMode Immediate.
func (StorageClassStrategy) Default(obj runtime.Object) {
	sc := obj.(*storagev1.StorageClass)
	if sc.ReclaimPolicy == nil {
		p := corev1.PersistentVolumeReclaimDelete
		sc.ReclaimPolicy = &p
	}
	if sc.VolumeBindingMode == nil {
		m := storagev1.VolumeBindingImmediate
		sc.VolumeBindingMode = &m
	}
}

// Validate checks a new StorageClass.
func (StorageClassStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	sc := obj.(*storagev1.StorageClass)
	errs := apivalidation.ValidateObjectMeta(&sc.ObjectMeta, false, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	errs = append(errs, validateProvisioner(sc.Provisioner, field.NewPath("provisioner"))...)
	errs = append(errs, validateParameters(sc.Parameters, field.NewPath("parameters"))...)
	if p := sc.ReclaimPolicy; p != nil && *p != supportedReclaim[0] && *p != supportedReclaim[1] {
		errs = append(errs, field.NotSupported(field.NewPath("reclaimPolicy"), *p, supportedReclaim))
	}
	if m := sc.VolumeBindingMode; m == nil {
		errs = append(errs, field.Required(field.NewPath("volumeBindingMode"), ""))
	} else if *m != supportedBinding[0] && *m != supportedBinding[1] {
		errs = append(errs, field.NotSupported(field.NewPath("volumeBindingMode"), *m, supportedBinding))
	}
	return append(errs, validateTopologies(sc.AllowedTopologies, field.NewPath("allowedTopologies"))...)
}

// ValidateUpdate checks an update: what a class provisions is fixed,
// because existing volumes were made from it.
func (s StorageClassStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	sc, o := obj.(*storagev1.StorageClass), old.(*storagev1.StorageClass)
	errs := apivalidation.ValidateObjectMetaUpdate(&sc.ObjectMeta, &o.ObjectMeta, field.NewPath("metadata"))
	errs = append(errs, s.Validate(ctx, obj)...)
	if !apiequality.Semantic.DeepEqual(sc.Parameters, o.Parameters) {
		errs = append(errs, field.Forbidden(field.NewPath("parameters"), "updates to parameters are forbidden."))
	}
	if sc.Provisioner != o.Provisioner {
		errs = append(errs, field.Forbidden(field.NewPath("provisioner"), "updates to provisioner are forbidden."))
	}
	if !apiequality.Semantic.DeepEqual(sc.ReclaimPolicy, o.ReclaimPolicy) {
		errs = append(errs, field.Forbidden(field.NewPath("reclaimPolicy"), "updates to reclaimPolicy are forbidden."))
	}
	return append(errs, apivalidation.ValidateImmutableField(sc.VolumeBindingMode, o.VolumeBindingMode, field.NewPath("volumeBindingMode"))...)
}

func validateProvisioner(p string, fld *field.Path) field.ErrorList {
	if p == "" {
		return field.ErrorList{field.Required(fld, p)}
	}
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(strings.ToLower(p)) {
		errs = append(errs, field.Invalid(fld, p, msg))
	}
	return errs
}

func validateParameters(params map[string]string, fld *field.Path) field.ErrorList {
	if len(params) > maxParameters {
		return field.ErrorList{field.TooMany(fld, len(params), maxParameters)}
	}
	var errs field.ErrorList
	size := 0
	for k, v := range params {
		if k == "" {
			errs = append(errs, field.Invalid(fld, k, "field can not be empty."))
		}
		size += len(k) + len(v)
	}
	if size > maxParametersSize {
		errs = append(errs, field.TooLong(fld, "", maxParametersSize))
	}
	return errs
}

func validateTopologies(terms []corev1.TopologySelectorTerm, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, term := range terms {
		tf := fld.Index(i).Child("matchLabelExpressions")
		if len(term.MatchLabelExpressions) == 0 {
			errs = append(errs, field.Required(tf, "must have at least one label match expression"))
		}
		for j, req := range term.MatchLabelExpressions {
			errs = append(errs, metav1validation.ValidateLabelName(req.Key, tf.Index(j).Child("key"))...)
			if len(req.Values) == 0 {
				errs = append(errs, field.Required(tf.Index(j).Child("values"), "must specify as least one value"))
			}
		}
	}
	return errs
}

// Resources returns the storage.k8s.io/v1 resources.
func Resources() []*registry.Resource {
	return []*registry.Resource{{
		Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses",
		Kind: "StorageClass", Singular: "storageclass",
		ShortNames: []string{"sc"},
		New:        func() runtime.Object { return &storagev1.StorageClass{} },
		NewList:    func() runtime.Object { return &storagev1.StorageClassList{} },
		Strategy:   StorageClassStrategy{},
	}}
}
