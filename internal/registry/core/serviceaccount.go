package core

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

type serviceAccountStrategy struct{ registry.BaseStrategy }

func serviceAccountResource() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Resource: "serviceaccounts", Kind: "ServiceAccount", Singular: "serviceaccount",
		ShortNames: []string{"sa"}, Namespaced: true,
		New:          func() runtime.Object { return &corev1.ServiceAccount{} },
		NewList:      func() runtime.Object { return &corev1.ServiceAccountList{} },
		Strategy:     serviceAccountStrategy{},
		Subresources: []string{"token"},
	}
}

// Validate implements registry.Strategy.
func (serviceAccountStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	sa := obj.(*corev1.ServiceAccount)
	return validateMeta(&sa.ObjectMeta, true, apivalidation.NameIsDNSSubdomain)
}

// ValidateUpdate implements registry.Strategy.
func (serviceAccountStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	sa, o := obj.(*corev1.ServiceAccount), old.(*corev1.ServiceAccount)
	return validateMetaUpdate(&sa.ObjectMeta, &o.ObjectMeta)
}
