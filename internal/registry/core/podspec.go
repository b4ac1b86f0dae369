package core

import (
	"fmt"
	"math"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	supportedRestartPolicies = []corev1.RestartPolicy{corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}
	supportedDNSPolicies     = []corev1.DNSPolicy{corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone}
	supportedPreemption      = []corev1.PreemptionPolicy{corev1.PreemptLowerPriority, corev1.PreemptNever}
)

// ValidatePodTemplateSpec checks a pod template: its labels, annotations
// and spec. fld is the template's path, e.g. spec.template.
func ValidatePodTemplateSpec(t *corev1.PodTemplateSpec, fld *field.Path) field.ErrorList {
	if t == nil {
		return field.ErrorList{field.Required(fld, "")}
	}
	meta := fld.Child("metadata")
	errs := metav1validation.ValidateLabels(t.Labels, meta.Child("labels"))
	errs = append(errs, apivalidation.ValidateAnnotations(t.Annotations, meta.Child("annotations"))...)
	errs = append(errs, ValidatePodSpec(&t.Spec, fld.Child("spec"))...)
	return errs
}

// ValidatePodSpec checks a pod spec after defaulting. fld is the spec's
// path, e.g. spec or spec.template.spec.
func ValidatePodSpec(spec *corev1.PodSpec, fld *field.Path) field.ErrorList {
	volumes, errs := validateVolumes(spec.Volumes, fld.Child("volumes"))
	names := sets.New[string]()
	errs = append(errs, validateInitContainers(spec.InitContainers, volumes, names, spec.HostNetwork, fld.Child("initContainers"))...)
	errs = append(errs, validateContainers(spec.Containers, volumes, names, spec.HostNetwork, fld.Child("containers"))...)
	errs = append(errs, validatePodPolicies(spec, fld)...)
	errs = append(errs, validatePodNames(spec, fld)...)
	errs = append(errs, metav1validation.ValidateLabels(spec.NodeSelector, fld.Child("nodeSelector"))...)
	errs = append(errs, validateTolerations(spec.Tolerations, fld.Child("tolerations"))...)
	errs = append(errs, validatePodSecurityContext(spec.SecurityContext, fld.Child("securityContext"))...)
	return errs
}

func validatePodPolicies(spec *corev1.PodSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.RestartPolicy == "" {
		errs = append(errs, field.Required(fld.Child("restartPolicy"), ""))
	} else if !contains(supportedRestartPolicies, spec.RestartPolicy) {
		errs = append(errs, field.NotSupported(fld.Child("restartPolicy"), spec.RestartPolicy, supportedRestartPolicies))
	}
	if spec.DNSPolicy == "" {
		errs = append(errs, field.Required(fld.Child("dnsPolicy"), ""))
	} else if !contains(supportedDNSPolicies, spec.DNSPolicy) {
		errs = append(errs, field.NotSupported(fld.Child("dnsPolicy"), spec.DNSPolicy, supportedDNSPolicies))
	}
	if spec.DNSPolicy == corev1.DNSNone && (spec.DNSConfig == nil || len(spec.DNSConfig.Nameservers) == 0) {
		errs = append(errs, field.Required(fld.Child("dnsConfig", "nameservers"),
			fmt.Sprintf("must provide at least one DNS nameserver when dnsPolicy is %s", corev1.DNSNone)))
	}
	if g := spec.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		errs = append(errs, apivalidation.ValidateNonnegativeField(*g, fld.Child("terminationGracePeriodSeconds"))...)
	}
	if a := spec.ActiveDeadlineSeconds; a != nil && (*a < 1 || *a > math.MaxInt32) {
		errs = append(errs, field.Invalid(fld.Child("activeDeadlineSeconds"), *a, validation.InclusiveRangeError(1, math.MaxInt32)))
	}
	if p := spec.PreemptionPolicy; p != nil && !contains(supportedPreemption, *p) {
		errs = append(errs, field.NotSupported(fld.Child("preemptionPolicy"), *p, supportedPreemption))
	}
	return errs
}

// validatePodNames checks the DNS-style names a pod spec refers to.
func validatePodNames(spec *corev1.PodSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	check := func(value, name string, fn func(string) []string) {
		if value == "" {
			return
		}
		for _, msg := range fn(value) {
			errs = append(errs, field.Invalid(fld.Child(name), value, msg))
		}
	}
	check(spec.ServiceAccountName, "serviceAccountName", validation.IsDNS1123Subdomain)
	check(spec.NodeName, "nodeName", validation.IsDNS1123Subdomain)
	check(spec.Hostname, "hostname", validation.IsDNS1123Label)
	check(spec.Subdomain, "subdomain", validation.IsDNS1123Label)
	check(spec.PriorityClassName, "priorityClassName", validation.IsDNS1123Subdomain)
	check(spec.SchedulerName, "schedulerName", validation.IsDNS1123Subdomain)
	return errs
}

func validateTolerations(tols []corev1.Toleration, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, t := range tols {
		p := fld.Index(i)
		if t.Key != "" {
			errs = append(errs, metav1validation.ValidateLabelName(t.Key, p.Child("key"))...)
		}
		if t.Key == "" && t.Operator != corev1.TolerationOpExists {
			errs = append(errs, field.Invalid(p.Child("operator"), t.Operator,
				"operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
			errs = append(errs, field.Invalid(p.Child("effect"), t.Effect,
				"effect must be 'NoExecute' when `tolerationSeconds` is set"))
		}
		switch t.Operator {
		case corev1.TolerationOpEqual, "":
			for _, msg := range validation.IsValidLabelValue(t.Value) {
				errs = append(errs, field.Invalid(p.Child("operator"), t.Value, msg))
			}
		case corev1.TolerationOpExists:
			if t.Value != "" {
				errs = append(errs, field.Invalid(p.Child("operator"), t,
					"value must be empty when `operator` is 'Exists'"))
			}
		default:
			errs = append(errs, field.NotSupported(p.Child("operator"), t.Operator,
				[]corev1.TolerationOperator{corev1.TolerationOpEqual, corev1.TolerationOpExists}))
		}
		effects := []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute}
		if t.Effect != "" && !contains(effects, t.Effect) {
			errs = append(errs, field.NotSupported(p.Child("effect"), t.Effect, effects))
		}
	}
	return errs
}

func validatePodSecurityContext(sc *corev1.PodSecurityContext, fld *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	var errs field.ErrorList
	errs = append(errs, validateID(sc.RunAsUser, fld.Child("runAsUser"), validation.IsValidUserID)...)
	errs = append(errs, validateID(sc.RunAsGroup, fld.Child("runAsGroup"), validation.IsValidGroupID)...)
	errs = append(errs, validateID(sc.FSGroup, fld.Child("fsGroup"), validation.IsValidGroupID)...)
	for i, g := range sc.SupplementalGroups {
		errs = append(errs, validateID(&g, fld.Child("supplementalGroups").Index(i), validation.IsValidGroupID)...)
	}
	return errs
}

func validateID(id *int64, fld *field.Path, fn func(int64) []string) field.ErrorList {
	if id == nil {
		return nil
	}
	var errs field.ErrorList
	for _, msg := range fn(*id) {
		errs = append(errs, field.Invalid(fld, *id, msg))
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
