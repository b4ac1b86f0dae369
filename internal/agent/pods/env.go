package pods

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/navarch/navarch/internal/agent/fieldpath"
)

// env builds a container's environment: envFrom sources first, then env
// (later entries win), with $(VAR) references expanded against what came
// before, as upstream does. Missing non-optional sources are errors with
// the kubelet's wording (they become CreateContainerConfigError).
func (r *round) env(c *corev1.Container) ([]*runtimeapi.KeyValue, error) {
	pod := r.pod
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	for _, from := range c.EnvFrom {
		data, err := r.envFromSource(from)
		if err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var invalid []string
		for _, k := range keys {
			name := from.Prefix + k
			if name == "" || strings.Contains(name, "=") {
				invalid = append(invalid, k)
				continue
			}
			set(name, data[k])
		}
		if len(invalid) > 0 {
			kind, ref := "configMap", ""
			if from.ConfigMapRef != nil {
				ref = from.ConfigMapRef.Name
			} else if from.SecretRef != nil {
				kind, ref = "secret", from.SecretRef.Name
			}
			r.w.eventOnce(pod, c.Name, corev1.EventTypeWarning, "InvalidEnvironmentVariableNames",
				fmt.Sprintf("Keys [%s] from the EnvFrom %s %s/%s were skipped since they are considered invalid environment variable names.",
					strings.Join(invalid, ", "), kind, pod.Namespace, ref))
		}
	}
	svcVars := r.serviceEnv()
	for _, e := range c.Env {
		v, ok, err := r.envValue(c, e, withServiceEnv(vars, svcVars))
		if err != nil {
			return nil, err
		}
		if ok {
			set(e.Name, v)
		}
	}
	// Service variables come last and never override the container's.
	for _, e := range svcVars {
		if _, ok := vars[e.Name]; !ok {
			set(e.Name, e.Value)
		}
	}
	out := make([]*runtimeapi.KeyValue, 0, len(order))
	for _, k := range order {
		out = append(out, &runtimeapi.KeyValue{Key: k, Value: []byte(vars[k])})
	}
	return out, nil
}

func (r *round) envFromSource(from corev1.EnvFromSource) (map[string]string, error) {
	ns := r.pod.Namespace
	switch {
	case from.ConfigMapRef != nil:
		cm, err := r.w.m.cms.ConfigMaps(ns).Get(from.ConfigMapRef.Name)
		if err != nil {
			if notFound(err) && optional(from.ConfigMapRef.Optional) {
				return nil, nil
			}
			return nil, fmt.Errorf("configmap %q not found", from.ConfigMapRef.Name)
		}
		return cm.Data, nil
	case from.SecretRef != nil:
		s, err := r.w.m.secrets.Secrets(ns).Get(from.SecretRef.Name)
		if err != nil {
			if notFound(err) && optional(from.SecretRef.Optional) {
				return nil, nil
			}
			return nil, fmt.Errorf("secret %q not found", from.SecretRef.Name)
		}
		out := make(map[string]string, len(s.Data))
		for k, v := range s.Data {
			out[k] = string(v)
		}
		return out, nil
	}
	return nil, nil
}

func optional(p *bool) bool { return p != nil && *p }

// serviceEnv is the pod's Service environment (enableServiceLinks
// defaults to true).
func (r *round) serviceEnv() []corev1.EnvVar {
	if r.w.m.cfg.ServiceEnv == nil {
		return nil
	}
	links := r.pod.Spec.EnableServiceLinks == nil || *r.pod.Spec.EnableServiceLinks
	return r.w.m.cfg.ServiceEnv(r.pod.Namespace, links)
}

// withServiceEnv lets $(VAR) references see Service variables the
// container has not set itself, as upstream's expansion does.
func withServiceEnv(vars map[string]string, svc []corev1.EnvVar) map[string]string {
	if len(svc) == 0 {
		return vars
	}
	m := make(map[string]string, len(vars)+len(svc))
	for _, e := range svc {
		m[e.Name] = e.Value
	}
	for k, v := range vars {
		m[k] = v
	}
	return m
}

// envValue resolves one env entry; ok=false skips it (optional source
// missing).
func (r *round) envValue(c *corev1.Container, e corev1.EnvVar, vars map[string]string) (string, bool, error) {
	if e.ValueFrom == nil {
		return expand(e.Value, vars), true, nil
	}
	pod, ns := r.pod, r.pod.Namespace
	vf := e.ValueFrom
	switch {
	case vf.FieldRef != nil:
		v, err := fieldpath.Field(pod, vf.FieldRef.FieldPath, r.fieldStatus(), true)
		return v, err == nil, err
	case vf.ResourceFieldRef != nil:
		v, err := fieldpath.Resource(pod, c.Name, vf.ResourceFieldRef, r.w.m.cfg.Allocatable)
		return v, err == nil, err
	case vf.ConfigMapKeyRef != nil:
		ref := vf.ConfigMapKeyRef
		cm, err := r.w.m.cms.ConfigMaps(ns).Get(ref.Name)
		if err != nil {
			if notFound(err) && optional(ref.Optional) {
				return "", false, nil
			}
			return "", false, fmt.Errorf("configmap %q not found", ref.Name)
		}
		v, ok := cm.Data[ref.Key]
		if !ok {
			if optional(ref.Optional) {
				return "", false, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", ref.Key, ns, ref.Name)
		}
		return v, true, nil
	case vf.SecretKeyRef != nil:
		ref := vf.SecretKeyRef
		s, err := r.w.m.secrets.Secrets(ns).Get(ref.Name)
		if err != nil {
			if notFound(err) && optional(ref.Optional) {
				return "", false, nil
			}
			return "", false, fmt.Errorf("secret %q not found", ref.Name)
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			if optional(ref.Optional) {
				return "", false, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in Secret %s/%s", ref.Key, ns, ref.Name)
		}
		return string(v), true, nil
	}
	return "", false, nil
}

func expandAll(in []string, vars map[string]string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = expand(s, vars)
	}
	return out
}

// expand replaces $(VAR) with its value when VAR is defined, turns $$ into
// a literal $, and leaves everything else alone: upstream's rules for
// command, args and env values.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
