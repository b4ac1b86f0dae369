package core

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

// maxDataSize is the 1 MiB limit upstream puts on ConfigMap and Secret
// payloads.
const maxDataSize = corev1.MaxSecretSize

type configMapStrategy struct{ registry.BaseStrategy }

func configMapResource() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Resource: "configmaps", Kind: "ConfigMap", Singular: "configmap",
		ShortNames: []string{"cm"}, Namespaced: true,
		New:      func() runtime.Object { return &corev1.ConfigMap{} },
		NewList:  func() runtime.Object { return &corev1.ConfigMapList{} },
		Strategy: configMapStrategy{},
	}
}

// Validate implements registry.Strategy.
func (configMapStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	cm := obj.(*corev1.ConfigMap)
	errs := validateMeta(&cm.ObjectMeta, true, apivalidation.NameIsDNSSubdomain)
	return append(errs, validateConfigMapData(cm)...)
}

func validateConfigMapData(cm *corev1.ConfigMap) field.ErrorList {
	var errs field.ErrorList
	size := 0
	for k, v := range cm.Data {
		errs = append(errs, validateDataKey(k, field.NewPath("data").Key(k))...)
		size += len(v)
	}
	for k, v := range cm.BinaryData {
		p := field.NewPath("binaryData").Key(k)
		errs = append(errs, validateDataKey(k, p)...)
		if _, dup := cm.Data[k]; dup {
			errs = append(errs, field.Invalid(p, k, "duplicate of key present in data"))
		}
		size += len(v)
	}
	if size > maxDataSize {
		errs = append(errs, field.TooLong(field.NewPath(""), "", maxDataSize))
	}
	return errs
}

func validateDataKey(k string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsConfigMapKey(k) {
		errs = append(errs, field.Invalid(p, k, msg))
	}
	return errs
}

// ValidateUpdate enforces `immutable`: once set, neither it nor the data
// may change.
func (configMapStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	cm, o := obj.(*corev1.ConfigMap), old.(*corev1.ConfigMap)
	errs := validateMetaUpdate(&cm.ObjectMeta, &o.ObjectMeta)
	errs = append(errs, validateConfigMapData(cm)...)
	if isTrue(o.Immutable) {
		errs = append(errs, immutableDataErrs(cm.Immutable, cm.Data, o.Data, cm.BinaryData, o.BinaryData)...)
	}
	return errs
}

// immutableDataErrs reports changes to an object whose immutable flag was
// set; d1/d2 are the string data, b1/b2 the byte data (new, old).
func immutableDataErrs(immutable *bool, d1, d2 map[string]string, b1, b2 map[string][]byte) field.ErrorList {
	const msg = "field is immutable when `immutable` is set"
	var errs field.ErrorList
	if !isTrue(immutable) {
		errs = append(errs, field.Forbidden(field.NewPath("immutable"), msg))
	}
	if !equality.Semantic.DeepEqual(d1, d2) {
		errs = append(errs, field.Forbidden(field.NewPath("data"), msg))
	}
	if !equality.Semantic.DeepEqual(b1, b2) {
		p := "binaryData"
		if d1 == nil && d2 == nil {
			// Secrets keep their bytes in data.
			p = "data"
		}
		errs = append(errs, field.Forbidden(field.NewPath(p), msg))
	}
	return errs
}

func isTrue(b *bool) bool { return b != nil && *b }
