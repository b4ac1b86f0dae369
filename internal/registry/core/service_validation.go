package core

import (
	"context"
	"net"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxClientIPAffinitySeconds is one day, upstream's affinity ceiling.
const maxClientIPAffinitySeconds = 86400

var (
	supportedServiceTypes = []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeExternalName,
		corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort}
	supportedAffinities = []corev1.ServiceAffinity{corev1.ServiceAffinityClientIP, corev1.ServiceAffinityNone}
	supportedETPs       = []corev1.ServiceExternalTrafficPolicy{corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal}
	supportedITPs       = []corev1.ServiceInternalTrafficPolicy{corev1.ServiceInternalTrafficPolicyCluster, corev1.ServiceInternalTrafficPolicyLocal}
	supportedIPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
	supportedFamilyPols = []corev1.IPFamilyPolicy{corev1.IPFamilyPolicySingleStack, corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack}
	specPath            = field.NewPath("spec")
)

// Validate implements registry.Strategy.
func (serviceStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	svc := obj.(*corev1.Service)
	errs := validateMeta(&svc.ObjectMeta, true, apivalidation.NameIsDNS1035Label)
	return append(errs, validateServiceSpec(&svc.Spec)...)
}

// ValidateUpdate also keeps allocated cluster IPs fixed.
func (serviceStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	svc, o := obj.(*corev1.Service), old.(*corev1.Service)
	errs := validateMetaUpdate(&svc.ObjectMeta, &o.ObjectMeta)
	errs = append(errs, validateServiceSpec(&svc.Spec)...)
	oldType, newType := o.Spec.Type, svc.Spec.Type
	if oldType != corev1.ServiceTypeExternalName && newType != corev1.ServiceTypeExternalName &&
		len(o.Spec.ClusterIPs) > 0 && len(svc.Spec.ClusterIPs) > 0 && svc.Spec.ClusterIPs[0] != o.Spec.ClusterIPs[0] {
		errs = append(errs, field.Invalid(specPath.Child("clusterIPs").Index(0), svc.Spec.ClusterIPs, "may not change once set"))
	}
	return errs
}

// ValidateStatusUpdate checks load balancer ingress addresses.
func (serviceStrategy) ValidateStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	svc, o := obj.(*corev1.Service), old.(*corev1.Service)
	errs := validateMetaUpdate(&svc.ObjectMeta, &o.ObjectMeta)
	p := field.NewPath("status", "loadBalancer", "ingress")
	for i, in := range svc.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			errs = append(errs, validation.IsValidIPForLegacyField(p.Index(i).Child("ip"), in.IP, false, nil)...)
		}
		if in.Hostname != "" {
			errs = append(errs, validateName(in.Hostname, p.Index(i).Child("hostname"), validation.IsDNS1123Subdomain)...)
		}
	}
	return errs
}

func validateServiceSpec(spec *corev1.ServiceSpec) field.ErrorList {
	var errs field.ErrorList
	if !contains(supportedServiceTypes, spec.Type) {
		errs = append(errs, field.NotSupported(specPath.Child("type"), spec.Type, supportedServiceTypes))
	}
	headless := spec.ClusterIP == corev1.ClusterIPNone
	if len(spec.Ports) == 0 && !headless && spec.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, field.Required(specPath.Child("ports"), ""))
	}
	errs = append(errs, validateServicePorts(spec)...)
	errs = append(errs, metav1validation.ValidateLabels(spec.Selector, specPath.Child("selector"))...)
	errs = append(errs, validateServiceAffinity(spec)...)
	errs = append(errs, validateServiceTypeFields(spec)...)
	errs = append(errs, validateClusterIPs(spec)...)
	errs = append(errs, validateTrafficPolicies(spec)...)
	for i, ip := range spec.ExternalIPs {
		errs = append(errs, validation.IsValidIPForLegacyField(specPath.Child("externalIPs").Index(i), ip, false, nil)...)
	}
	return errs
}

func validateServicePorts(spec *corev1.ServiceSpec) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	type portKey struct {
		Port     int32
		Protocol corev1.Protocol
	}
	seen, nodePorts := map[portKey]bool{}, map[portKey]bool{}
	for i, port := range spec.Ports {
		p := specPath.Child("ports").Index(i)
		switch {
		case port.Name == "" && len(spec.Ports) > 1:
			errs = append(errs, field.Required(p.Child("name"), ""))
		case port.Name != "":
			errs = append(errs, validateName(port.Name, p.Child("name"), validation.IsDNS1123Label)...)
			if names.Has(port.Name) {
				errs = append(errs, field.Duplicate(p.Child("name"), port.Name))
			}
			names.Insert(port.Name)
		}
		errs = append(errs, portNumErrs(port.Port, p.Child("port"))...)
		errs = append(errs, protocolErrs(port.Protocol, p.Child("protocol"))...)
		errs = append(errs, validateTargetPort(port, p.Child("targetPort"))...)
		key := portKey{port.Port, port.Protocol}
		if seen[key] {
			errs = append(errs, field.Duplicate(p, key))
		}
		seen[key] = true
		if port.NodePort != 0 {
			if spec.Type == corev1.ServiceTypeClusterIP {
				errs = append(errs, field.Forbidden(p.Child("nodePort"), "may not be used when `type` is 'ClusterIP'"))
			}
			nk := portKey{port.NodePort, port.Protocol}
			if nodePorts[nk] {
				errs = append(errs, field.Duplicate(p.Child("nodePort"), port.NodePort))
			}
			nodePorts[nk] = true
			errs = append(errs, portNumErrs(port.NodePort, p.Child("nodePort"))...)
		}
	}
	return errs
}

func validateTargetPort(port corev1.ServicePort, p *field.Path) field.ErrorList {
	if port.TargetPort.Type == intstr.String {
		return validateName(port.TargetPort.StrVal, p, validation.IsValidPortName)
	}
	return portNumErrs(port.TargetPort.IntVal, p)
}

func validateServiceAffinity(spec *corev1.ServiceSpec) field.ErrorList {
	var errs field.ErrorList
	p := specPath.Child("sessionAffinity")
	if !contains(supportedAffinities, spec.SessionAffinity) {
		return append(errs, field.NotSupported(p, spec.SessionAffinity, supportedAffinities))
	}
	cfg := specPath.Child("sessionAffinityConfig")
	if spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		c := spec.SessionAffinityConfig
		if c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
			return append(errs, field.Required(cfg, "when session affinity type is ClientIP"))
		}
		if t := *c.ClientIP.TimeoutSeconds; t <= 0 || t > maxClientIPAffinitySeconds {
			errs = append(errs, field.Invalid(cfg.Child("clientIP", "timeoutSeconds"), t,
				validation.InclusiveRangeError(1, maxClientIPAffinitySeconds)))
		}
	} else if spec.SessionAffinityConfig != nil {
		errs = append(errs, field.Invalid(cfg, spec.SessionAffinityConfig,
			"must not be set when session affinity is None"))
	}
	return errs
}

func validateServiceTypeFields(spec *corev1.ServiceSpec) field.ErrorList {
	var errs field.ErrorList
	switch spec.Type {
	case corev1.ServiceTypeExternalName:
		p := specPath.Child("externalName")
		if spec.ExternalName == "" {
			errs = append(errs, field.Required(p, ""))
		} else {
			errs = append(errs, validateName(spec.ExternalName, p, validation.IsDNS1123Subdomain)...)
		}
		if len(spec.ClusterIPs) > 0 || spec.ClusterIP != "" {
			errs = append(errs, field.Forbidden(specPath.Child("clusterIPs"), "may not be set for ExternalName services"))
		}
	case corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
		if spec.ClusterIP == corev1.ClusterIPNone {
			errs = append(errs, field.Invalid(specPath.Child("clusterIPs").Index(0), spec.ClusterIP,
				"may not be set to 'None' for "+string(spec.Type)+" services"))
		}
	}
	if spec.Type != corev1.ServiceTypeLoadBalancer && spec.AllocateLoadBalancerNodePorts != nil {
		errs = append(errs, field.Forbidden(specPath.Child("allocateLoadBalancerNodePorts"),
			"may only be used when `type` is 'LoadBalancer'"))
	}
	return errs
}

func validateClusterIPs(spec *corev1.ServiceSpec) field.ErrorList {
	var errs field.ErrorList
	p := specPath.Child("clusterIPs")
	if len(spec.ClusterIPs) > 0 && spec.ClusterIP != spec.ClusterIPs[0] {
		errs = append(errs, field.Invalid(p.Index(0), spec.ClusterIPs[0], "must be same as `clusterIP`"))
	}
	if len(spec.ClusterIPs) > 2 {
		errs = append(errs, field.TooMany(p, len(spec.ClusterIPs), 2))
	}
	for i, ip := range spec.ClusterIPs {
		if ip == corev1.ClusterIPNone {
			if i > 0 || len(spec.ClusterIPs) > 1 {
				errs = append(errs, field.Invalid(p, spec.ClusterIPs, "'None' must be the first and only value"))
			}
			continue
		}
		errs = append(errs, validation.IsValidIPForLegacyField(p.Index(i), ip, false, nil)...)
	}
	fam := specPath.Child("ipFamilies")
	for i, f := range spec.IPFamilies {
		if !contains(supportedIPFamilies, f) {
			errs = append(errs, field.NotSupported(fam.Index(i), f, supportedIPFamilies))
		}
		if i == 1 && f == spec.IPFamilies[0] {
			errs = append(errs, field.Duplicate(fam.Index(i), f))
		}
	}
	if len(spec.IPFamilies) > 2 {
		errs = append(errs, field.TooMany(fam, len(spec.IPFamilies), 2))
	}
	if pol := spec.IPFamilyPolicy; pol != nil && !contains(supportedFamilyPols, *pol) {
		errs = append(errs, field.NotSupported(specPath.Child("ipFamilyPolicy"), *pol, supportedFamilyPols))
	}
	for i, ip := range spec.ClusterIPs {
		if parsed := net.ParseIP(ip); parsed != nil && i < len(spec.IPFamilies) && ipFamilyOf(parsed) != spec.IPFamilies[i] {
			errs = append(errs, field.Invalid(p.Index(i), ip, "expected an IP of family "+string(spec.IPFamilies[i])))
		}
	}
	return errs
}

func validateTrafficPolicies(spec *corev1.ServiceSpec) field.ErrorList {
	var errs field.ErrorList
	etp := specPath.Child("externalTrafficPolicy")
	if isNodePortType(spec.Type) {
		if spec.ExternalTrafficPolicy == "" {
			errs = append(errs, field.Required(etp, ""))
		} else if !contains(supportedETPs, spec.ExternalTrafficPolicy) {
			errs = append(errs, field.NotSupported(etp, spec.ExternalTrafficPolicy, supportedETPs))
		}
	} else if spec.ExternalTrafficPolicy != "" {
		errs = append(errs, field.Invalid(etp, spec.ExternalTrafficPolicy,
			"may only be set when `type` is 'NodePort' or 'LoadBalancer'"))
	}
	itp := specPath.Child("internalTrafficPolicy")
	if spec.Type != corev1.ServiceTypeExternalName {
		if spec.InternalTrafficPolicy == nil {
			errs = append(errs, field.Required(itp, ""))
		} else if !contains(supportedITPs, *spec.InternalTrafficPolicy) {
			errs = append(errs, field.NotSupported(itp, *spec.InternalTrafficPolicy, supportedITPs))
		}
	}
	if spec.HealthCheckNodePort != 0 && (spec.Type != corev1.ServiceTypeLoadBalancer ||
		spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal) {
		errs = append(errs, field.Invalid(specPath.Child("healthCheckNodePort"), spec.HealthCheckNodePort,
			"may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
	}
	return errs
}
