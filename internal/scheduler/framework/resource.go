package framework

import (
	corev1 "k8s.io/api/core/v1"
)

// Defaults that scoring assumes for containers that request nothing, so
// that best-effort pods still spread (upstream's values).
const (
	DefaultMilliCPURequest int64 = 100               // 0.1 core
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// Resource is an amount of the resources the scheduler accounts for, as
// integers so that Filter does no Quantity arithmetic.
type Resource struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	AllowedPodNumber int64
	// Scalar holds extended resources and hugepages.
	Scalar map[corev1.ResourceName]int64
}

// NewResource converts a ResourceList.
func NewResource(rl corev1.ResourceList) Resource {
	var r Resource
	r.Add(rl)
	return r
}

// Add adds a ResourceList.
func (r *Resource) Add(rl corev1.ResourceList) {
	for name, q := range rl {
		switch name {
		case corev1.ResourceCPU:
			r.MilliCPU += q.MilliValue()
		case corev1.ResourceMemory:
			r.Memory += q.Value()
		case corev1.ResourceEphemeralStorage:
			r.EphemeralStorage += q.Value()
		case corev1.ResourcePods:
			r.AllowedPodNumber += q.Value()
		default:
			if IsScalarResource(name) {
				r.AddScalar(name, q.Value())
			}
		}
	}
}

// AddScalar adds v of an extended resource.
func (r *Resource) AddScalar(name corev1.ResourceName, v int64) {
	if r.Scalar == nil {
		r.Scalar = map[corev1.ResourceName]int64{}
	}
	r.Scalar[name] += v
}

// Plus adds o to r.
func (r *Resource) Plus(o Resource) {
	r.MilliCPU += o.MilliCPU
	r.Memory += o.Memory
	r.EphemeralStorage += o.EphemeralStorage
	r.AllowedPodNumber += o.AllowedPodNumber
	for k, v := range o.Scalar {
		r.AddScalar(k, v)
	}
}

// Minus subtracts o from r.
func (r *Resource) Minus(o Resource) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.EphemeralStorage -= o.EphemeralStorage
	r.AllowedPodNumber -= o.AllowedPodNumber
	for k, v := range o.Scalar {
		r.AddScalar(k, -v)
	}
}

// Max raises each amount of r to at least o's.
func (r *Resource) Max(o Resource) {
	r.MilliCPU = max(r.MilliCPU, o.MilliCPU)
	r.Memory = max(r.Memory, o.Memory)
	r.EphemeralStorage = max(r.EphemeralStorage, o.EphemeralStorage)
	r.AllowedPodNumber = max(r.AllowedPodNumber, o.AllowedPodNumber)
	for k, v := range o.Scalar {
		if v > r.Scalar[k] {
			if r.Scalar == nil {
				r.Scalar = map[corev1.ResourceName]int64{}
			}
			r.Scalar[k] = v
		}
	}
}

// IsZero reports that nothing is requested.
func (r *Resource) IsZero() bool {
	if r.MilliCPU != 0 || r.Memory != 0 || r.EphemeralStorage != 0 {
		return false
	}
	for _, v := range r.Scalar {
		if v != 0 {
			return false
		}
	}
	return true
}

// Clone copies r.
func (r Resource) Clone() Resource {
	out := r
	if r.Scalar != nil {
		out.Scalar = make(map[corev1.ResourceName]int64, len(r.Scalar))
		for k, v := range r.Scalar {
			out.Scalar[k] = v
		}
	}
	return out
}

// Get returns the amount of one resource.
func (r *Resource) Get(name corev1.ResourceName) int64 {
	switch name {
	case corev1.ResourceCPU:
		return r.MilliCPU
	case corev1.ResourceMemory:
		return r.Memory
	case corev1.ResourceEphemeralStorage:
		return r.EphemeralStorage
	case corev1.ResourcePods:
		return r.AllowedPodNumber
	}
	return r.Scalar[name]
}

// IsScalarResource: extended resources (domain-prefixed names outside
// kubernetes.io), hugepages and attachable volumes.
func IsScalarResource(name corev1.ResourceName) bool {
	return IsExtendedResource(name) || IsHugePages(name) || hasPrefix(string(name), corev1.ResourceAttachableVolumesPrefix)
}

// IsHugePages reports a hugepages-<size> resource.
func IsHugePages(name corev1.ResourceName) bool {
	return hasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

// IsExtendedResource: a fully-qualified name not in the kubernetes.io
// domain and not requests.*.
func IsExtendedResource(name corev1.ResourceName) bool {
	s := string(name)
	slash := -1
	for i := range len(s) {
		if s[i] == '/' {
			slash = i
			break
		}
	}
	if slash <= 0 || hasPrefix(s, "requests.") {
		return false
	}
	domain := s[:slash]
	return domain != "kubernetes.io" && !hasSuffix(domain, ".kubernetes.io")
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
func hasSuffix(s, p string) bool { return len(s) >= len(p) && s[len(s)-len(p):] == p }

// PodRequests computes what a pod needs on a node: the larger of its
// containers plus sidecars running together and the peak of any init
// container (sidecars started before it keep running), plus overhead.
// Pod-level resources, when set, replace the container sums for cpu and
// memory. With nonZero, containers that request no cpu or memory count
// the scoring defaults instead.
func PodRequests(pod *corev1.Pod, nonZero bool) Resource {
	var steady Resource
	for i := range pod.Spec.Containers {
		steady.Plus(containerRequests(&pod.Spec.Containers[i], nonZero))
	}
	var sidecars, initPeak Resource
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		req := containerRequests(c, nonZero)
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars.Plus(req)
			peak := sidecars.Clone()
			initPeak.Max(peak)
			continue
		}
		peak := sidecars.Clone()
		peak.Plus(req)
		initPeak.Max(peak)
	}
	steady.Plus(sidecars)
	steady.Max(initPeak)
	if pr := pod.Spec.Resources; pr != nil {
		if q, ok := pr.Requests[corev1.ResourceCPU]; ok {
			steady.MilliCPU = q.MilliValue()
		}
		if q, ok := pr.Requests[corev1.ResourceMemory]; ok {
			steady.Memory = q.Value()
		}
	}
	if pod.Spec.Overhead != nil {
		steady.Add(pod.Spec.Overhead)
	}
	steady.AllowedPodNumber = 0
	return steady
}

func containerRequests(c *corev1.Container, nonZero bool) Resource {
	r := NewResource(c.Resources.Requests)
	r.AllowedPodNumber = 0
	if nonZero {
		if _, ok := c.Resources.Requests[corev1.ResourceCPU]; !ok || r.MilliCPU == 0 {
			r.MilliCPU = DefaultMilliCPURequest
		}
		if _, ok := c.Resources.Requests[corev1.ResourceMemory]; !ok || r.Memory == 0 {
			r.Memory = DefaultMemoryRequest
		}
	}
	return r
}
