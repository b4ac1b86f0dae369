package core

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	supportedPullPolicies = []corev1.PullPolicy{corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever}
	supportedTermMsg      = []corev1.TerminationMessagePolicy{corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError}
	supportedProtocols    = []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}
)

// validateContainers checks the app containers; names records every
// container name so init and app containers cannot collide.
func validateContainers(cs []corev1.Container, volumes sets.Set[string], names sets.Set[string], hostNet bool, fld *field.Path) field.ErrorList {
	if len(cs) == 0 {
		return field.ErrorList{field.Required(fld, "")}
	}
	var errs field.ErrorList
	for i := range cs {
		c := &cs[i]
		p := fld.Index(i)
		errs = append(errs, validateContainer(c, volumes, names, hostNet, p)...)
		if c.RestartPolicy != nil {
			errs = append(errs, field.Forbidden(p.Child("restartPolicy"), "may not be set for non-init containers"))
		}
		if c.LivenessProbe != nil && c.LivenessProbe.SuccessThreshold != 1 {
			errs = append(errs, field.Invalid(p.Child("livenessProbe", "successThreshold"), c.LivenessProbe.SuccessThreshold, "must be 1"))
		}
		if c.StartupProbe != nil && c.StartupProbe.SuccessThreshold != 1 {
			errs = append(errs, field.Invalid(p.Child("startupProbe", "successThreshold"), c.StartupProbe.SuccessThreshold, "must be 1"))
		}
	}
	return errs
}

// validateInitContainers checks init containers; only restartable
// ("sidecar") init containers may carry probes and lifecycle hooks.
func validateInitContainers(cs []corev1.Container, volumes sets.Set[string], names sets.Set[string], hostNet bool, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i := range cs {
		c := &cs[i]
		p := fld.Index(i)
		errs = append(errs, validateContainer(c, volumes, names, hostNet, p)...)
		sidecar := false
		if c.RestartPolicy != nil {
			if *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
				errs = append(errs, field.NotSupported(p.Child("restartPolicy"), *c.RestartPolicy,
					[]corev1.ContainerRestartPolicy{corev1.ContainerRestartPolicyAlways}))
			}
			sidecar = true
		}
		if sidecar {
			continue
		}
		if c.Lifecycle != nil {
			errs = append(errs, field.Forbidden(p.Child("lifecycle"), "may not be set for init containers without restartPolicy=Always"))
		}
		if c.LivenessProbe != nil {
			errs = append(errs, field.Forbidden(p.Child("livenessProbe"), "may not be set for init containers without restartPolicy=Always"))
		}
		if c.ReadinessProbe != nil {
			errs = append(errs, field.Forbidden(p.Child("readinessProbe"), "may not be set for init containers without restartPolicy=Always"))
		}
		if c.StartupProbe != nil {
			errs = append(errs, field.Forbidden(p.Child("startupProbe"), "may not be set for init containers without restartPolicy=Always"))
		}
	}
	return errs
}

func validateContainer(c *corev1.Container, volumes, names sets.Set[string], hostNet bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case c.Name == "":
		errs = append(errs, field.Required(p.Child("name"), ""))
	case names.Has(c.Name):
		errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
	default:
		for _, msg := range validation.IsDNS1123Label(c.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), c.Name, msg))
		}
	}
	names.Insert(c.Name)
	if c.Image == "" {
		errs = append(errs, field.Required(p.Child("image"), ""))
	}
	errs = append(errs, validateContainerEnums(c, p)...)
	errs = append(errs, validatePorts(c.Ports, hostNet, p.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, p.Child("env"))...)
	errs = append(errs, validateVolumeMounts(c.VolumeMounts, volumes, p.Child("volumeMounts"))...)
	errs = append(errs, validateResources(&c.Resources, p.Child("resources"))...)
	errs = append(errs, validateProbe(c.LivenessProbe, p.Child("livenessProbe"))...)
	errs = append(errs, validateProbe(c.ReadinessProbe, p.Child("readinessProbe"))...)
	errs = append(errs, validateProbe(c.StartupProbe, p.Child("startupProbe"))...)
	if sc := c.SecurityContext; sc != nil {
		errs = append(errs, validateID(sc.RunAsUser, p.Child("securityContext", "runAsUser"), validation.IsValidUserID)...)
		errs = append(errs, validateID(sc.RunAsGroup, p.Child("securityContext", "runAsGroup"), validation.IsValidGroupID)...)
	}
	return errs
}

func validateContainerEnums(c *corev1.Container, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.ImagePullPolicy == "" {
		errs = append(errs, field.Required(p.Child("imagePullPolicy"), ""))
	} else if !contains(supportedPullPolicies, c.ImagePullPolicy) {
		errs = append(errs, field.NotSupported(p.Child("imagePullPolicy"), c.ImagePullPolicy, supportedPullPolicies))
	}
	if c.TerminationMessagePolicy == "" {
		errs = append(errs, field.Required(p.Child("terminationMessagePolicy"), ""))
	} else if !contains(supportedTermMsg, c.TerminationMessagePolicy) {
		errs = append(errs, field.NotSupported(p.Child("terminationMessagePolicy"), c.TerminationMessagePolicy, supportedTermMsg))
	}
	return errs
}

func validatePorts(ports []corev1.ContainerPort, hostNet bool, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for i, port := range ports {
		p := fld.Index(i)
		if port.Name != "" {
			for _, msg := range validation.IsValidPortName(port.Name) {
				errs = append(errs, field.Invalid(p.Child("name"), port.Name, msg))
			}
			if names.Has(port.Name) {
				errs = append(errs, field.Duplicate(p.Child("name"), port.Name))
			}
			names.Insert(port.Name)
		}
		if port.ContainerPort == 0 {
			errs = append(errs, field.Required(p.Child("containerPort"), ""))
		} else {
			errs = append(errs, portNumErrs(port.ContainerPort, p.Child("containerPort"))...)
		}
		if port.HostPort != 0 {
			errs = append(errs, portNumErrs(port.HostPort, p.Child("hostPort"))...)
		}
		if hostNet && port.HostPort != port.ContainerPort {
			errs = append(errs, field.Invalid(p.Child("hostPort"), port.HostPort,
				"must match `containerPort` when `hostNetwork` is true"))
		}
		errs = append(errs, protocolErrs(port.Protocol, p.Child("protocol"))...)
	}
	return errs
}

func portNumErrs(port int32, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsValidPortNum(int(port)) {
		errs = append(errs, field.Invalid(p, port, msg))
	}
	return errs
}

func protocolErrs(proto corev1.Protocol, p *field.Path) field.ErrorList {
	if proto == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	if !contains(supportedProtocols, proto) {
		return field.ErrorList{field.NotSupported(p, proto, supportedProtocols)}
	}
	return nil
}

func validateEnv(env []corev1.EnvVar, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, e := range env {
		p := fld.Index(i)
		if e.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		} else {
			for _, msg := range validation.IsRelaxedEnvVarName(e.Name) {
				errs = append(errs, field.Invalid(p.Child("name"), e.Name, msg))
			}
		}
		if e.ValueFrom == nil {
			continue
		}
		if e.Value != "" {
			errs = append(errs, field.Invalid(p.Child("valueFrom"), "", "may not be specified when `value` is not empty"))
		}
		errs = append(errs, validateEnvSource(e.ValueFrom, p.Child("valueFrom"))...)
	}
	return errs
}

func validateEnvSource(s *corev1.EnvVarSource, p *field.Path) field.ErrorList {
	n := 0
	var errs field.ErrorList
	if s.FieldRef != nil {
		n++
		if s.FieldRef.FieldPath == "" {
			errs = append(errs, field.Required(p.Child("fieldRef", "fieldPath"), ""))
		}
	}
	if s.ResourceFieldRef != nil {
		n++
		if s.ResourceFieldRef.Resource == "" {
			errs = append(errs, field.Required(p.Child("resourceFieldRef", "resource"), ""))
		}
	}
	if s.ConfigMapKeyRef != nil {
		n++
		errs = append(errs, keyRefErrs(s.ConfigMapKeyRef.Key, p.Child("configMapKeyRef", "key"))...)
	}
	if s.SecretKeyRef != nil {
		n++
		errs = append(errs, keyRefErrs(s.SecretKeyRef.Key, p.Child("secretKeyRef", "key"))...)
	}
	if s.FileKeyRef != nil {
		n++
	}
	switch {
	case n == 0:
		errs = append(errs, field.Invalid(p, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
	case n > 1:
		errs = append(errs, field.Invalid(p, "", "may not have more than one field specified at a time"))
	}
	return errs
}

func keyRefErrs(key string, p *field.Path) field.ErrorList {
	if key == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	var errs field.ErrorList
	for _, msg := range validation.IsConfigMapKey(key) {
		errs = append(errs, field.Invalid(p, key, msg))
	}
	return errs
}

func validateVolumeMounts(mounts []corev1.VolumeMount, volumes sets.Set[string], fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	paths := sets.New[string]()
	for i, m := range mounts {
		p := fld.Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		} else if !volumes.Has(m.Name) {
			errs = append(errs, field.NotFound(p.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(p.Child("mountPath"), ""))
		} else if paths.Has(m.MountPath) {
			errs = append(errs, field.Invalid(p.Child("mountPath"), m.MountPath, "must be unique"))
		}
		paths.Insert(m.MountPath)
	}
	return errs
}

func validateProbe(pr *corev1.Probe, fld *field.Path) field.ErrorList {
	if pr == nil {
		return nil
	}
	var errs field.ErrorList
	n := 0
	h := pr.ProbeHandler
	for _, set := range []bool{h.Exec != nil, h.HTTPGet != nil, h.TCPSocket != nil, h.GRPC != nil} {
		if set {
			n++
		}
	}
	if n == 0 {
		errs = append(errs, field.Required(fld, "must specify a handler type"))
	} else if n > 1 {
		errs = append(errs, field.Forbidden(fld, "may not specify more than 1 handler type"))
	}
	for _, f := range []struct {
		name string
		v    int32
	}{
		{"initialDelaySeconds", pr.InitialDelaySeconds}, {"timeoutSeconds", pr.TimeoutSeconds},
		{"periodSeconds", pr.PeriodSeconds}, {"successThreshold", pr.SuccessThreshold},
		{"failureThreshold", pr.FailureThreshold},
	} {
		if f.v < 0 {
			errs = append(errs, field.Invalid(fld.Child(f.name), f.v, "must be greater than or equal to 0"))
		}
	}
	if h.HTTPGet != nil {
		errs = append(errs, validateProbePort(h.HTTPGet.Port.IntValue(), h.HTTPGet.Port.String(), fld.Child("httpGet", "port"))...)
	}
	if h.TCPSocket != nil {
		errs = append(errs, validateProbePort(h.TCPSocket.Port.IntValue(), h.TCPSocket.Port.String(), fld.Child("tcpSocket", "port"))...)
	}
	return errs
}

// validateProbePort accepts a port number or a named container port.
func validateProbePort(num int, s string, p *field.Path) field.ErrorList {
	var msgs []string
	if num != 0 {
		msgs = validation.IsValidPortNum(num)
	} else {
		msgs = validation.IsValidPortName(s)
	}
	var errs field.ErrorList
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(p, s, msg))
	}
	return errs
}
