package cri

import (
	"sort"
	"strconv"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Labels and annotations on sandboxes and containers. The label keys are
// the kubelet's, so that tools which know them (crictl filters, log
// shippers) work on navarch nodes too.
const (
	LabelPodName       = "io.kubernetes.pod.name"
	LabelPodNamespace  = "io.kubernetes.pod.namespace"
	LabelPodUID        = "io.kubernetes.pod.uid"
	LabelContainerName = "io.kubernetes.container.name"
	// LabelManagedBy marks what navarch created, so cleanup never touches
	// sandboxes or containers made by someone else on a shared runtime.
	LabelManagedBy = "navarch.io/managed-by"
	ManagedByValue = "navarch"

	AnnotationRestartCount    = "io.kubernetes.container.restartCount"
	AnnotationImage           = "navarch.io/image"
	AnnotationTerminationPath = "io.kubernetes.container.terminationMessagePath"
	AnnotationTerminationPol  = "io.kubernetes.container.terminationMessagePolicy"
	AnnotationGracePeriod     = "io.kubernetes.pod.terminationGracePeriod"
	AnnotationInit            = "navarch.io/init-container"
	AnnotationPreStop         = "navarch.io/has-prestop"
)

// RestartCount reads the restart count a container was created with.
func RestartCount(c *runtimeapi.Container) int32 {
	n, err := strconv.Atoi(c.GetAnnotations()[AnnotationRestartCount])
	if err != nil {
		return int32(c.GetMetadata().GetAttempt())
	}
	return int32(n)
}

// PodState is what the runtime holds for one pod.
type PodState struct {
	// Sandboxes, newest first.
	Sandboxes []*runtimeapi.PodSandbox
	// Containers, newest first.
	Containers []*runtimeapi.Container
}

// Latest is the newest sandbox (nil when none).
func (p *PodState) Latest() *runtimeapi.PodSandbox {
	if p == nil || len(p.Sandboxes) == 0 {
		return nil
	}
	return p.Sandboxes[0]
}

// Instances lists the containers named name in sandbox sandboxID (all
// sandboxes when empty), newest first.
func (p *PodState) Instances(name, sandboxID string) []*runtimeapi.Container {
	if p == nil {
		return nil
	}
	var out []*runtimeapi.Container
	for _, c := range p.Containers {
		if c.GetMetadata().GetName() == name && (sandboxID == "" || c.PodSandboxId == sandboxID) {
			out = append(out, c)
		}
	}
	return out
}

// Group sorts sandboxes and containers by pod UID label, newest first.
func Group(sandboxes []*runtimeapi.PodSandbox, containers []*runtimeapi.Container) map[string]*PodState {
	out := map[string]*PodState{}
	get := func(uid string) *PodState {
		p := out[uid]
		if p == nil {
			p = &PodState{}
			out[uid] = p
		}
		return p
	}
	for _, s := range sandboxes {
		if uid := s.GetLabels()[LabelPodUID]; uid != "" {
			get(uid).Sandboxes = append(get(uid).Sandboxes, s)
		}
	}
	for _, c := range containers {
		if uid := c.GetLabels()[LabelPodUID]; uid != "" {
			get(uid).Containers = append(get(uid).Containers, c)
		}
	}
	for _, p := range out {
		sort.SliceStable(p.Sandboxes, func(i, j int) bool { return newerSandbox(p.Sandboxes[i], p.Sandboxes[j]) })
		sort.SliceStable(p.Containers, func(i, j int) bool { return newerContainer(p.Containers[i], p.Containers[j]) })
	}
	return out
}

func newerSandbox(a, b *runtimeapi.PodSandbox) bool {
	if a.GetMetadata().GetAttempt() != b.GetMetadata().GetAttempt() {
		return a.GetMetadata().GetAttempt() > b.GetMetadata().GetAttempt()
	}
	return a.CreatedAt > b.CreatedAt
}

func newerContainer(a, b *runtimeapi.Container) bool {
	if ra, rb := RestartCount(a), RestartCount(b); ra != rb {
		return ra > rb
	}
	return a.CreatedAt > b.CreatedAt
}

// Fingerprint summarises a pod's runtime state: it changes when a
// sandbox or container appears, goes or changes state.
func (p *PodState) Fingerprint() string {
	if p == nil {
		return ""
	}
	b := make([]byte, 0, 80*(len(p.Sandboxes)+len(p.Containers)))
	for _, s := range p.Sandboxes {
		b = append(b, s.Id...)
		b = append(b, byte('0'+s.State))
	}
	for _, c := range p.Containers {
		b = append(b, c.Id...)
		b = append(b, byte('0'+c.State))
	}
	return string(b)
}
