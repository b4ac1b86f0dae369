package namespace

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/discovery"
)

// conditionTypes are the conditions this controller owns, in upstream's
// order.
var conditionTypes = []corev1.NamespaceConditionType{
	corev1.NamespaceDeletionDiscoveryFailure,
	corev1.NamespaceDeletionGVParsingFailure,
	corev1.NamespaceDeletionContentFailure,
	corev1.NamespaceContentRemaining,
	corev1.NamespaceFinalizersRemaining,
}

// Upstream's reasons and messages for a condition that is False (all is
// well) ...
var (
	okReasons = map[corev1.NamespaceConditionType]string{
		corev1.NamespaceDeletionDiscoveryFailure: "ResourcesDiscovered",
		corev1.NamespaceDeletionGVParsingFailure: "ParsedGroupVersions",
		corev1.NamespaceDeletionContentFailure:   "ContentDeleted",
		corev1.NamespaceContentRemaining:         "ContentRemoved",
		corev1.NamespaceFinalizersRemaining:      "ContentHasNoFinalizers",
	}
	okMessages = map[corev1.NamespaceConditionType]string{
		corev1.NamespaceDeletionDiscoveryFailure: "All resources successfully discovered",
		corev1.NamespaceDeletionGVParsingFailure: "All legacy kube types successfully parsed",
		corev1.NamespaceDeletionContentFailure:   "All content successfully deleted, may be waiting on finalization",
		corev1.NamespaceContentRemaining:         "All content successfully removed",
		corev1.NamespaceFinalizersRemaining:      "All content-preserving finalizers finished",
	}
	// ... and for one that is True.
	failReasons = map[corev1.NamespaceConditionType]string{
		corev1.NamespaceDeletionDiscoveryFailure: "DiscoveryFailed",
		corev1.NamespaceDeletionGVParsingFailure: "GroupVersionParsingFailed",
		corev1.NamespaceDeletionContentFailure:   "ContentDeletionFailed",
		corev1.NamespaceContentRemaining:         "SomeResourcesRemain",
		corev1.NamespaceFinalizersRemaining:      "SomeFinalizersRemain",
	}
)

// outcome is what one deletion pass found.
type outcome struct {
	discoveryErr error
	deleteErrs   []error
	// remaining counts objects left per group-resource ("pods",
	// "deployments.apps"); finalizers counts objects per finalizer.
	remaining  map[string]int
	finalizers map[string]int
}

func (o *outcome) done() bool {
	return o.discoveryErr == nil && len(o.deleteErrs) == 0 && len(o.remaining) == 0
}

// failures returns the message of each condition that is True.
func (o *outcome) failures() map[corev1.NamespaceConditionType]string {
	out := map[corev1.NamespaceConditionType]string{}
	if o.discoveryErr != nil {
		out[corev1.NamespaceDeletionDiscoveryFailure] = discoveryMessage(o.discoveryErr)
	}
	if len(o.deleteErrs) > 0 {
		out[corev1.NamespaceDeletionContentFailure] = fmt.Sprintf("Failed to delete all resource types, %d remaining: %v",
			len(o.deleteErrs), utilerrors.NewAggregate(o.deleteErrs))
	}
	if len(o.remaining) > 0 {
		out[corev1.NamespaceContentRemaining] = "Some resources are remaining: " + tally(o.remaining, "%s has %d resource instances")
	}
	if len(o.finalizers) > 0 {
		out[corev1.NamespaceFinalizersRemaining] = "Some content in the namespace has finalizers remaining: " + tally(o.finalizers, "%s in %d resource instances")
	}
	return out
}

func discoveryMessage(err error) string {
	var gerr *discovery.ErrGroupDiscoveryFailed
	if errors.As(err, &gerr) {
		return fmt.Sprintf("Discovery failed for some groups, %d failing: %v", len(gerr.Groups), err)
	}
	return err.Error()
}

// tally renders counts sorted by name, so the message is stable.
func tally(counts map[string]int, format string) string {
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf(format, n, counts[n])
	}
	return strings.Join(parts, ", ")
}

// conditions returns the namespace's conditions after a pass: ours
// rewritten from o (keeping a transition time while the status holds),
// anyone else's kept as they are.
func conditions(old []corev1.NamespaceCondition, o *outcome, now metav1.Time) []corev1.NamespaceCondition {
	fail := o.failures()
	var out []corev1.NamespaceCondition
	for _, c := range old {
		if !owned(c.Type) {
			out = append(out, c)
		}
	}
	for _, t := range conditionTypes {
		c := corev1.NamespaceCondition{Type: t, Status: corev1.ConditionFalse, Reason: okReasons[t], Message: okMessages[t], LastTransitionTime: now}
		if msg, bad := fail[t]; bad {
			c.Status, c.Reason, c.Message = corev1.ConditionTrue, failReasons[t], msg
		}
		if prev := find(old, t); prev != nil && prev.Status == c.Status {
			c.LastTransitionTime = prev.LastTransitionTime
		}
		out = append(out, c)
	}
	return out
}

func owned(t corev1.NamespaceConditionType) bool {
	for _, o := range conditionTypes {
		if o == t {
			return true
		}
	}
	return false
}

func find(conds []corev1.NamespaceCondition, t corev1.NamespaceConditionType) *corev1.NamespaceCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}
