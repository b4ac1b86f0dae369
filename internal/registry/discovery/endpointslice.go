// Package discovery holds the strategy and registry entry of
// discovery.k8s.io/v1 EndpointSlices: port defaults and validation of
// addresses by address type. It must not do I/O or compute endpoints from
// services and pods; that is the EndpointSlice controller's job.
package discovery

import (
	"context"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

// Size limits that keep a slice small enough to watch and ship cheaply.
const (
	maxEndpoints = 1000
	maxAddresses = 100
	maxPorts     = 20000
	maxHints     = 8
)

var (
	supportedAddressTypes = []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6, discoveryv1.AddressTypeFQDN}
	supportedProtocols    = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}
)

// EndpointSliceStrategy implements registry.Strategy for EndpointSlices.
type EndpointSliceStrategy struct{ registry.BaseStrategy }

// Default gives each port an empty name and protocol TCP, as upstream.
func (EndpointSliceStrategy) Default(obj runtime.Object) {
	es := obj.(*discoveryv1.EndpointSlice)
	for i := range es.Ports {
		p := &es.Ports[i]
		if p.Name == nil {
			p.Name = new("")
		}
		if p.Protocol == nil {
			p.Protocol = new(corev1.ProtocolTCP)
		}
	}
}

// Validate checks a new EndpointSlice.
func (EndpointSliceStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	es := obj.(*discoveryv1.EndpointSlice)
	errs := apivalidation.ValidateObjectMeta(&es.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	at := field.NewPath("addressType")
	switch {
	case es.AddressType == "":
		errs = append(errs, field.Required(at, ""))
	case !contains(supportedAddressTypes, es.AddressType):
		errs = append(errs, field.NotSupported(at, es.AddressType, supportedAddressTypes))
	}
	errs = append(errs, validateEndpoints(es.Endpoints, es.AddressType, field.NewPath("endpoints"))...)
	return append(errs, validatePorts(es.Ports, field.NewPath("ports"))...)
}

// ValidateUpdate checks an update; consumers rely on the address type
// never changing.
func (s EndpointSliceStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	es, o := obj.(*discoveryv1.EndpointSlice), old.(*discoveryv1.EndpointSlice)
	errs := apivalidation.ValidateObjectMetaUpdate(&es.ObjectMeta, &o.ObjectMeta, field.NewPath("metadata"))
	errs = append(errs, s.Validate(ctx, obj)...)
	return append(errs, apivalidation.ValidateImmutableField(es.AddressType, o.AddressType, field.NewPath("addressType"))...)
}

func validateEndpoints(eps []discoveryv1.Endpoint, at discoveryv1.AddressType, fld *field.Path) field.ErrorList {
	if len(eps) > maxEndpoints {
		return field.ErrorList{field.TooMany(fld, len(eps), maxEndpoints)}
	}
	var errs field.ErrorList
	for i := range eps {
		ep, ef := &eps[i], fld.Index(i)
		af := ef.Child("addresses")
		switch {
		case len(ep.Addresses) == 0:
			errs = append(errs, field.Required(af, "must contain at least 1 address"))
		case len(ep.Addresses) > maxAddresses:
			errs = append(errs, field.TooMany(af, len(ep.Addresses), maxAddresses))
		}
		for j, a := range ep.Addresses {
			errs = append(errs, validateAddress(a, at, af.Index(j))...)
		}
		if ep.Hostname != nil {
			for _, msg := range validation.IsDNS1123Label(*ep.Hostname) {
				errs = append(errs, field.Invalid(ef.Child("hostname"), *ep.Hostname, msg))
			}
		}
		if ep.NodeName != nil {
			for _, msg := range apivalidation.NameIsDNSSubdomain(*ep.NodeName, false) {
				errs = append(errs, field.Invalid(ef.Child("nodeName"), *ep.NodeName, msg))
			}
		}
		errs = append(errs, metav1validation.ValidateLabels(ep.DeprecatedTopology, ef.Child("deprecatedTopology"))...)
		errs = append(errs, validateHints(ep.Hints, ef.Child("hints"))...)
	}
	return errs
}

func validateAddress(a string, at discoveryv1.AddressType, fld *field.Path) field.ErrorList {
	switch at {
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6:
		ip, err := netip.ParseAddr(a)
		if err != nil || ip.Zone() != "" || ip.String() != a {
			return field.ErrorList{field.Invalid(fld, a, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")}
		}
		if at == discoveryv1.AddressTypeIPv4 && !ip.Is4() {
			return field.ErrorList{field.Invalid(fld, a, "must be an IPv4 address")}
		}
		if at == discoveryv1.AddressTypeIPv6 && !ip.Is6() {
			return field.ErrorList{field.Invalid(fld, a, "must be an IPv6 address")}
		}
	case discoveryv1.AddressTypeFQDN:
		return validation.IsFullyQualifiedDomainName(fld, a)
	}
	return nil
}

func validateHints(h *discoveryv1.EndpointHints, fld *field.Path) field.ErrorList {
	if h == nil {
		return nil
	}
	var errs field.ErrorList
	if len(h.ForZones) > maxHints {
		errs = append(errs, field.TooMany(fld.Child("forZones"), len(h.ForZones), maxHints))
	}
	if len(h.ForNodes) > maxHints {
		errs = append(errs, field.TooMany(fld.Child("forNodes"), len(h.ForNodes), maxHints))
	}
	return errs
}

func validatePorts(ports []discoveryv1.EndpointPort, fld *field.Path) field.ErrorList {
	if len(ports) > maxPorts {
		return field.ErrorList{field.TooMany(fld, len(ports), maxPorts)}
	}
	var errs field.ErrorList
	names := sets.New[string]()
	for i, p := range ports {
		pf := fld.Index(i)
		if p.Name != nil {
			if *p.Name != "" {
				for _, msg := range validation.IsDNS1123Label(*p.Name) {
					errs = append(errs, field.Invalid(pf.Child("name"), *p.Name, msg))
				}
			}
			if names.Has(*p.Name) {
				errs = append(errs, field.Duplicate(pf.Child("name"), *p.Name))
			}
			names.Insert(*p.Name)
		}
		if p.Protocol == nil {
			errs = append(errs, field.Required(pf.Child("protocol"), ""))
		} else if !contains(supportedProtocols, *p.Protocol) {
			errs = append(errs, field.NotSupported(pf.Child("protocol"), *p.Protocol, supportedProtocols))
		}
		if p.Port != nil {
			for _, msg := range validation.IsInRange(int(*p.Port), 0, 65535) {
				errs = append(errs, field.Invalid(pf.Child("port"), *p.Port, msg))
			}
		}
		if p.AppProtocol != nil {
			for _, msg := range validation.IsQualifiedName(*p.AppProtocol) {
				errs = append(errs, field.Invalid(pf.Child("appProtocol"), *p.AppProtocol, msg))
			}
		}
	}
	return errs
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Resources returns the discovery.k8s.io/v1 resources.
func Resources() []*registry.Resource {
	return []*registry.Resource{{
		Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices",
		Kind: "EndpointSlice", Singular: "endpointslice",
		Namespaced: true,
		New:        func() runtime.Object { return &discoveryv1.EndpointSlice{} },
		NewList:    func() runtime.Object { return &discoveryv1.EndpointSliceList{} },
		Strategy:   EndpointSliceStrategy{},
	}}
}
