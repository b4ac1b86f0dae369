package core

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateResources checks a container's requests and limits: known or
// qualified names, non-negative values and requests within limits.
func validateResources(r *corev1.ResourceRequirements, fld *field.Path) field.ErrorList {
	errs := validateResourceList(r.Limits, fld.Child("limits"))
	errs = append(errs, validateResourceList(r.Requests, fld.Child("requests"))...)
	for name, req := range r.Requests {
		lim, ok := r.Limits[name]
		if !ok {
			continue
		}
		if req.Cmp(lim) > 0 {
			errs = append(errs, field.Invalid(fld.Child("requests").Key(string(name)), req.String(),
				fmt.Sprintf("must be less than or equal to %s limit of %s", name, lim.String())))
		}
	}
	return errs
}

func validateResourceList(list corev1.ResourceList, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for name, q := range list {
		p := fld.Key(string(name))
		errs = append(errs, validateResourceName(string(name), p)...)
		errs = append(errs, validateNonnegativeQuantity(q, p)...)
	}
	return errs
}

// validateResourceName requires a qualified name; unprefixed names must be
// one of the standard resources, as upstream only accepts custom resources
// under a domain prefix.
func validateResourceName(name string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(name) {
		errs = append(errs, field.Invalid(p, name, msg))
	}
	if len(errs) > 0 {
		return errs
	}
	if !strings.Contains(name, "/") && !isStandardContainerResource(name) {
		errs = append(errs, field.Invalid(p, name, "must be a standard resource for containers"))
	}
	return errs
}

func isStandardContainerResource(name string) bool {
	if strings.HasPrefix(name, corev1.ResourceHugePagesPrefix) {
		return true
	}
	switch corev1.ResourceName(name) {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
		return true
	}
	return false
}

func validateNonnegativeQuantity(q resource.Quantity, p *field.Path) field.ErrorList {
	if q.Sign() < 0 {
		return field.ErrorList{field.Invalid(p, q.String(), "must be greater than or equal to 0")}
	}
	return nil
}
