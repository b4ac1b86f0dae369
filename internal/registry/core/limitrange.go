package core

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

var supportedLimitTypes = []corev1.LimitType{corev1.LimitTypePod, corev1.LimitTypeContainer, corev1.LimitTypePersistentVolumeClaim}

type limitRangeStrategy struct{ registry.BaseStrategy }

func limitRangeResource() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Resource: "limitranges", Kind: "LimitRange", Singular: "limitrange",
		ShortNames: []string{"limits"}, Namespaced: true,
		New:      func() runtime.Object { return &corev1.LimitRange{} },
		NewList:  func() runtime.Object { return &corev1.LimitRangeList{} },
		Strategy: limitRangeStrategy{},
	}
}

// Default fills a container limit's default from max, and its default
// request from default (then max), as upstream does.
func (limitRangeStrategy) Default(obj runtime.Object) {
	lr := obj.(*corev1.LimitRange)
	for i := range lr.Spec.Limits {
		l := &lr.Spec.Limits[i]
		if l.Type != corev1.LimitTypeContainer {
			continue
		}
		if l.Default == nil {
			l.Default = corev1.ResourceList{}
		}
		if l.DefaultRequest == nil {
			l.DefaultRequest = corev1.ResourceList{}
		}
		for name, q := range l.Max {
			if _, ok := l.Default[name]; !ok {
				l.Default[name] = q.DeepCopy()
			}
		}
		for name, q := range l.Default {
			if _, ok := l.DefaultRequest[name]; !ok {
				l.DefaultRequest[name] = q.DeepCopy()
			}
		}
		for name, q := range l.Min {
			if _, ok := l.DefaultRequest[name]; !ok {
				l.DefaultRequest[name] = q.DeepCopy()
			}
		}
	}
}

// Validate implements registry.Strategy.
func (limitRangeStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	lr := obj.(*corev1.LimitRange)
	errs := validateMeta(&lr.ObjectMeta, true, apivalidation.NameIsDNSSubdomain)
	return append(errs, validateLimitRangeSpec(&lr.Spec)...)
}

// ValidateUpdate implements registry.Strategy.
func (limitRangeStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	lr, o := obj.(*corev1.LimitRange), old.(*corev1.LimitRange)
	errs := validateMetaUpdate(&lr.ObjectMeta, &o.ObjectMeta)
	return append(errs, validateLimitRangeSpec(&lr.Spec)...)
}

func validateLimitRangeSpec(spec *corev1.LimitRangeSpec) field.ErrorList {
	var errs field.ErrorList
	for i := range spec.Limits {
		errs = append(errs, validateLimitItem(&spec.Limits[i], specPath.Child("limits").Index(i))...)
	}
	return errs
}

func validateLimitItem(l *corev1.LimitRangeItem, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if !contains(supportedLimitTypes, l.Type) {
		errs = append(errs, field.NotSupported(p.Child("type"), l.Type, supportedLimitTypes))
	}
	if l.Type == corev1.LimitTypePod {
		if len(l.Default) > 0 {
			errs = append(errs, field.Forbidden(p.Child("default"), "may not be specified when `type` is 'Pod'"))
		}
		if len(l.DefaultRequest) > 0 {
			errs = append(errs, field.Forbidden(p.Child("defaultRequest"), "may not be specified when `type` is 'Pod'"))
		}
	}
	for _, list := range []struct {
		name string
		l    corev1.ResourceList
	}{{"max", l.Max}, {"min", l.Min}, {"default", l.Default}, {"defaultRequest", l.DefaultRequest}, {"maxLimitRequestRatio", l.MaxLimitRequestRatio}} {
		for name, q := range list.l {
			kp := p.Child(list.name).Key(string(name))
			errs = append(errs, validateQuotaResourceName(string(name), kp)...)
			errs = append(errs, validateNonnegativeQuantity(q, kp)...)
		}
	}
	errs = append(errs, validateLimitOrder(l, p)...)
	return errs
}

// validateLimitOrder requires min <= defaultRequest <= default <= max for
// every resource named in more than one of them.
func validateLimitOrder(l *corev1.LimitRangeItem, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	le := func(loName string, lo corev1.ResourceList, hiName string, hi corev1.ResourceList, at string, atList corev1.ResourceList) {
		for name, a := range lo {
			b, ok := hi[name]
			if !ok || a.Cmp(b) <= 0 {
				continue
			}
			q := atList[name]
			errs = append(errs, field.Invalid(p.Child(at).Key(string(name)), q.String(),
				fmt.Sprintf("%s value %s is greater than %s value %s", loName, a.String(), hiName, b.String())))
		}
	}
	le("min", l.Min, "max", l.Max, "min", l.Min)
	le("min", l.Min, "default request", l.DefaultRequest, "defaultRequest", l.DefaultRequest)
	le("default request", l.DefaultRequest, "max", l.Max, "defaultRequest", l.DefaultRequest)
	le("min", l.Min, "default", l.Default, "default", l.Default)
	le("default", l.Default, "max", l.Max, "default", l.Default)
	le("default request", l.DefaultRequest, "default", l.Default, "defaultRequest", l.DefaultRequest)
	for name, r := range l.MaxLimitRequestRatio {
		if r.Cmp(resource.MustParse("1")) < 0 {
			errs = append(errs, field.Invalid(p.Child("maxLimitRequestRatio").Key(string(name)), r.String(),
				"ratio must be greater than or equal to 1"))
		}
	}
	return errs
}
