package printers

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Placeholders kubectl users recognise from upstream output.
const (
	none    = "<none>"
	unknown = "<unknown>"
	unset   = "<unset>"
)

// since renders the age of ts relative to now, "<unknown>" when unset.
func since(ts metav1.Time, now time.Time) string {
	if ts.IsZero() {
		return unknown
	}
	return duration.HumanDuration(now.Sub(ts.Time))
}

func sinceMicro(ts metav1.MicroTime, now time.Time) string {
	if ts.IsZero() {
		return unknown
	}
	return duration.HumanDuration(now.Sub(ts.Time))
}

func age(m metav1.ObjectMeta, now time.Time) string { return since(m.CreationTimestamp, now) }

// orNone substitutes "<none>" for an empty string.
func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return unknown
	}
	return s
}

// podTemplateWide returns the CONTAINERS and IMAGES cells shared by every
// workload controller's wide output.
func podTemplateWide(spec corev1.PodSpec) (string, string) {
	names := make([]string, 0, len(spec.Containers))
	images := make([]string, 0, len(spec.Containers))
	for _, c := range spec.Containers {
		names = append(names, c.Name)
		images = append(images, c.Image)
	}
	return strings.Join(names, ","), strings.Join(images, ",")
}

// selectorString renders a label selector the way `-o wide` shows it.
func selectorString(sel *metav1.LabelSelector) (string, error) {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return "", fmt.Errorf("printers: invalid selector: %w", err)
	}
	return s.String(), nil
}

// mapSelector renders a map selector (services, replication controllers).
func mapSelector(m map[string]string) string { return labels.FormatLabels(m) }

// replicasOr1 applies the API default for a nil replicas field.
func replicasOr1(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// moreList joins at most max entries and appends " + N more..." when the
// full count exceeds it.
func moreList(list []string, total, max int, empty string) string {
	if len(list) > max {
		list = list[:max]
	}
	s := strings.Join(list, ",")
	if total > max {
		return fmt.Sprintf("%s + %d more...", s, total-max)
	}
	if s == "" {
		return empty
	}
	return s
}

// quantityString renders an optional quantity; nil reads as "<unset>".
func quantityString(q *resource.Quantity) string {
	if q == nil {
		return unset
	}
	return q.String()
}
