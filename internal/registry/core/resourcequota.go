package core

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

// standardQuotaResources are the unprefixed names a quota may limit.
var standardQuotaResources = map[string]bool{
	"pods": true, "services": true, "replicationcontrollers": true, "resourcequotas": true,
	"secrets": true, "configmaps": true, "persistentvolumeclaims": true,
	"services.nodeports": true, "services.loadbalancers": true,
	"cpu": true, "memory": true, "ephemeral-storage": true, "storage": true,
	"requests.cpu": true, "requests.memory": true, "requests.storage": true, "requests.ephemeral-storage": true,
	"limits.cpu": true, "limits.memory": true, "limits.ephemeral-storage": true,
}

var supportedQuotaScopes = []corev1.ResourceQuotaScope{
	corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating,
	corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort,
	corev1.ResourceQuotaScopePriorityClass, corev1.ResourceQuotaScopeCrossNamespacePodAffinity,
}

type resourceQuotaStrategy struct{ registry.BaseStrategy }

func resourceQuotaResource() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Resource: "resourcequotas", Kind: "ResourceQuota", Singular: "resourcequota",
		ShortNames: []string{"quota"}, Namespaced: true,
		New:       func() runtime.Object { return &corev1.ResourceQuota{} },
		NewList:   func() runtime.Object { return &corev1.ResourceQuotaList{} },
		Strategy:  resourceQuotaStrategy{},
		HasStatus: true,
	}
}

// Validate implements registry.Strategy.
func (resourceQuotaStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	q := obj.(*corev1.ResourceQuota)
	errs := validateMeta(&q.ObjectMeta, true, apivalidation.NameIsDNSSubdomain)
	return append(errs, validateQuotaSpec(&q.Spec)...)
}

// ValidateUpdate implements registry.Strategy.
func (resourceQuotaStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	q, o := obj.(*corev1.ResourceQuota), old.(*corev1.ResourceQuota)
	errs := validateMetaUpdate(&q.ObjectMeta, &o.ObjectMeta)
	return append(errs, validateQuotaSpec(&q.Spec)...)
}

// ValidateStatusUpdate checks the hard and used lists.
func (resourceQuotaStrategy) ValidateStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	q, o := obj.(*corev1.ResourceQuota), old.(*corev1.ResourceQuota)
	errs := validateMetaUpdate(&q.ObjectMeta, &o.ObjectMeta)
	errs = append(errs, validateQuotaList(q.Status.Hard, field.NewPath("status", "hard"))...)
	return append(errs, validateQuotaList(q.Status.Used, field.NewPath("status", "used"))...)
}

func validateQuotaSpec(spec *corev1.ResourceQuotaSpec) field.ErrorList {
	errs := validateQuotaList(spec.Hard, specPath.Child("hard"))
	for i, s := range spec.Scopes {
		if !contains(supportedQuotaScopes, s) {
			errs = append(errs, field.NotSupported(specPath.Child("scopes").Index(i), s, supportedQuotaScopes))
		}
	}
	if sel := spec.ScopeSelector; sel != nil {
		for i, m := range sel.MatchExpressions {
			if !contains(supportedQuotaScopes, m.ScopeName) {
				p := specPath.Child("scopeSelector", "matchExpressions").Index(i).Child("scopeName")
				errs = append(errs, field.NotSupported(p, m.ScopeName, supportedQuotaScopes))
			}
		}
	}
	return errs
}

func validateQuotaList(list corev1.ResourceList, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for name, q := range list {
		p := fld.Key(string(name))
		errs = append(errs, validateQuotaResourceName(string(name), p)...)
		errs = append(errs, validateNonnegativeQuantity(q, p)...)
	}
	return errs
}

func validateQuotaResourceName(name string, p *field.Path) field.ErrorList {
	errs := validateName(name, p, validation.IsQualifiedName)
	if len(errs) > 0 || strings.Contains(name, "/") || standardQuotaResources[name] ||
		strings.HasPrefix(name, corev1.ResourceHugePagesPrefix) ||
		strings.HasPrefix(name, corev1.DefaultResourceRequestsPrefix+corev1.ResourceHugePagesPrefix) ||
		strings.HasSuffix(name, ".storageclass.storage.k8s.io") {
		return errs
	}
	return field.ErrorList{field.Invalid(p, name, "must be a standard resource type or fully qualified")}
}
