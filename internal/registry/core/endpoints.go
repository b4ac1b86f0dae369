package core

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

type endpointsStrategy struct{ registry.BaseStrategy }

func endpointsResource() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Resource: "endpoints", Kind: "Endpoints", Singular: "endpoints",
		ShortNames: []string{"ep"}, Namespaced: true,
		New:      func() runtime.Object { return &corev1.Endpoints{} },
		NewList:  func() runtime.Object { return &corev1.EndpointsList{} },
		Strategy: endpointsStrategy{},
	}
}

// Default sets port protocols to TCP.
func (endpointsStrategy) Default(obj runtime.Object) {
	ep := obj.(*corev1.Endpoints)
	for i := range ep.Subsets {
		for j := range ep.Subsets[i].Ports {
			if ep.Subsets[i].Ports[j].Protocol == "" {
				ep.Subsets[i].Ports[j].Protocol = corev1.ProtocolTCP
			}
		}
	}
}

// Validate implements registry.Strategy.
func (endpointsStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	ep := obj.(*corev1.Endpoints)
	errs := validateMeta(&ep.ObjectMeta, true, apivalidation.NameIsDNSSubdomain)
	return append(errs, validateSubsets(ep.Subsets)...)
}

// ValidateUpdate implements registry.Strategy.
func (endpointsStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	ep, o := obj.(*corev1.Endpoints), old.(*corev1.Endpoints)
	errs := validateMetaUpdate(&ep.ObjectMeta, &o.ObjectMeta)
	return append(errs, validateSubsets(ep.Subsets)...)
}

func validateSubsets(subsets []corev1.EndpointSubset) field.ErrorList {
	var errs field.ErrorList
	for i, ss := range subsets {
		p := field.NewPath("subsets").Index(i)
		if len(ss.Addresses) == 0 && len(ss.NotReadyAddresses) == 0 {
			errs = append(errs, field.Required(p, "must specify `addresses` or `notReadyAddresses`"))
		}
		for j, a := range ss.Addresses {
			errs = append(errs, validateEndpointAddress(a, p.Child("addresses").Index(j))...)
		}
		for j, a := range ss.NotReadyAddresses {
			errs = append(errs, validateEndpointAddress(a, p.Child("notReadyAddresses").Index(j))...)
		}
		errs = append(errs, validateEndpointPorts(ss.Ports, p.Child("ports"))...)
	}
	return errs
}

func validateEndpointAddress(a corev1.EndpointAddress, p *field.Path) field.ErrorList {
	errs := validation.IsValidIPForLegacyField(p.Child("ip"), a.IP, false, nil)
	if a.Hostname != "" {
		errs = append(errs, validateName(a.Hostname, p.Child("hostname"), validation.IsDNS1123Label)...)
	}
	if a.NodeName != nil {
		errs = append(errs, validateName(*a.NodeName, p.Child("nodeName"), validation.IsDNS1123Subdomain)...)
	}
	return errs
}

func validateEndpointPorts(ports []corev1.EndpointPort, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for i, port := range ports {
		p := fld.Index(i)
		if port.Name == "" && len(ports) > 1 {
			errs = append(errs, field.Required(p.Child("name"), ""))
		} else if port.Name != "" {
			errs = append(errs, validateName(port.Name, p.Child("name"), validation.IsDNS1123Label)...)
			if names.Has(port.Name) {
				errs = append(errs, field.Duplicate(p.Child("name"), port.Name))
			}
			names.Insert(port.Name)
		}
		errs = append(errs, portNumErrs(port.Port, p.Child("port"))...)
		errs = append(errs, protocolErrs(port.Protocol, p.Child("protocol"))...)
	}
	return errs
}
