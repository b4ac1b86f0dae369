// Package fieldpath resolves the downward API: fieldRef paths
// (metadata.name, status.podIP, metadata.labels['app'], ...) and
// resourceFieldRef (limits.cpu with a divisor, ...) against a pod, for
// environment variables and downwardAPI volumes alike.
//
// It must not do I/O.
package fieldpath

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Status carries the fields that only the node knows.
type Status struct {
	PodIP, HostIP   string
	PodIPs, HostIPs []string
	NodeName        string
}

// Field resolves a fieldRef path. Volumes accept only the metadata paths;
// env also the spec and status ones (env=true).
func Field(pod *corev1.Pod, path string, st Status, env bool) (string, error) {
	if key, ok := subscript(path, "metadata.labels"); ok {
		return pod.Labels[key], nil
	}
	if key, ok := subscript(path, "metadata.annotations"); ok {
		return pod.Annotations[key], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	}
	if !env {
		return "", fmt.Errorf("unsupported fieldPath %q in a downwardAPI volume", path)
	}
	switch path {
	case "spec.nodeName":
		if pod.Spec.NodeName != "" {
			return pod.Spec.NodeName, nil
		}
		return st.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		return st.PodIP, nil
	case "status.podIPs":
		return strings.Join(st.PodIPs, ","), nil
	case "status.hostIP":
		return st.HostIP, nil
	case "status.hostIPs":
		return strings.Join(st.HostIPs, ","), nil
	}
	return "", fmt.Errorf("unsupported fieldPath %q", path)
}

// subscript matches prefix['key'].
func subscript(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"['")
	if !ok || !strings.HasSuffix(rest, "']") {
		return "", false
	}
	return strings.TrimSuffix(rest, "']"), true
}

// formatMap is the downward API's key="value" lines, sorted by key.
func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k + "=" + strconv.Quote(m[k]))
	}
	return b.String()
}

// Resource resolves a resourceFieldRef for container c (named in the ref
// for volumes). A limit that is not set is the node's allocatable, as
// upstream reports it.
func Resource(pod *corev1.Pod, containerName string, ref *corev1.ResourceFieldSelector, allocatable corev1.ResourceList) (string, error) {
	name := ref.ContainerName
	if name == "" {
		name = containerName
	}
	var c *corev1.Container
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			c = &pod.Spec.Containers[i]
		}
	}
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			c = &pod.Spec.InitContainers[i]
		}
	}
	if c == nil {
		return "", fmt.Errorf("container %q not found for resourceFieldRef %s", name, ref.Resource)
	}
	kind, res, ok := strings.Cut(ref.Resource, ".")
	if !ok || (kind != "limits" && kind != "requests") {
		return "", fmt.Errorf("unsupported resource %q", ref.Resource)
	}
	var q resource.Quantity
	var found bool
	if kind == "limits" {
		q, found = c.Resources.Limits[corev1.ResourceName(res)]
	} else {
		q, found = c.Resources.Requests[corev1.ResourceName(res)]
	}
	if !found && kind == "limits" {
		q, found = allocatable[corev1.ResourceName(res)]
	}
	if !found {
		q = resource.Quantity{}
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	return convert(q, divisor, res), nil
}

// convert divides q by divisor, rounding up, as the downward API does
// (cpu in millicores granularity).
func convert(q, divisor resource.Quantity, res string) string {
	if res == "cpu" {
		v := math.Ceil(float64(q.MilliValue()) / float64(divisor.MilliValue()))
		return strconv.FormatInt(int64(v), 10)
	}
	v := math.Ceil(float64(q.Value()) / float64(divisor.Value()))
	return strconv.FormatInt(int64(v), 10)
}
