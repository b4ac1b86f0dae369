package framework

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
)

// PodInfo is a pod with what the plugins derive from it computed once:
// requests and parsed affinity terms. It is immutable once built.
type PodInfo struct {
	Pod *corev1.Pod
	// Requests is what the pod needs (see PodRequests); NonZero is the
	// same with the scoring defaults for unset cpu and memory.
	Requests, NonZero Resource

	RequiredAffinityTerms      []AffinityTerm
	RequiredAntiAffinityTerms  []AffinityTerm
	PreferredAffinityTerms     []WeightedAffinityTerm
	PreferredAntiAffinityTerms []WeightedAffinityTerm
	// ParseErr is set when a label selector in the affinity is invalid.
	ParseErr error
}

// AffinityTerm is a pod (anti-)affinity term with its selectors parsed.
type AffinityTerm struct {
	Namespaces  sets.Set[string]
	Selector    labels.Selector
	TopologyKey string
	// NamespaceSelector is nil when the term has none.
	NamespaceSelector labels.Selector
	// Signature identifies terms that select the same pods over the same
	// topology, so that counts can be shared between pods (see
	// NodeInfoLister.PodsMatching). Call Sign after changing the term.
	Signature string
}

// Sign recomputes the signature.
func (t *AffinityTerm) Sign() {
	ns := sets.List(t.Namespaces)
	nsSel := "-"
	if t.NamespaceSelector != nil {
		nsSel = t.NamespaceSelector.String()
	}
	t.Signature = strings.Join(ns, ",") + "|" + nsSel + "|" + t.Selector.String() + "|" + t.TopologyKey
}

// WeightedAffinityTerm is a preferred term.
type WeightedAffinityTerm struct {
	AffinityTerm
	Weight int32
}

// Matches reports whether pod, in a namespace with labels nsLabels, is
// selected by the term.
func (t *AffinityTerm) Matches(pod *corev1.Pod, nsLabels labels.Set) bool {
	if t.Namespaces.Has(pod.Namespace) || t.NamespaceSelector != nil && t.NamespaceSelector.Matches(nsLabels) {
		return t.Selector.Matches(labels.Set(pod.Labels))
	}
	return false
}

// NewPodInfo computes a pod's PodInfo.
func NewPodInfo(pod *corev1.Pod) *PodInfo {
	pi := &PodInfo{Pod: pod, Requests: PodRequests(pod, false), NonZero: PodRequests(pod, true)}
	aff := pod.Spec.Affinity
	if aff == nil {
		return pi
	}
	var errs []error
	if a := aff.PodAffinity; a != nil {
		pi.RequiredAffinityTerms, errs = requiredTerms(pod, a.RequiredDuringSchedulingIgnoredDuringExecution, errs)
		pi.PreferredAffinityTerms, errs = weightedTerms(pod, a.PreferredDuringSchedulingIgnoredDuringExecution, errs)
	}
	if a := aff.PodAntiAffinity; a != nil {
		pi.RequiredAntiAffinityTerms, errs = requiredTerms(pod, a.RequiredDuringSchedulingIgnoredDuringExecution, errs)
		pi.PreferredAntiAffinityTerms, errs = weightedTerms(pod, a.PreferredDuringSchedulingIgnoredDuringExecution, errs)
	}
	if len(errs) > 0 {
		pi.ParseErr = errs[0]
	}
	return pi
}

// HasAffinity reports any pod affinity or anti-affinity term.
func (pi *PodInfo) HasAffinity() bool {
	return len(pi.RequiredAffinityTerms)+len(pi.RequiredAntiAffinityTerms)+
		len(pi.PreferredAffinityTerms)+len(pi.PreferredAntiAffinityTerms) > 0
}

// HasScoringAffinity reports terms that score other pods.
func (pi *PodInfo) HasScoringAffinity() bool {
	return len(pi.RequiredAffinityTerms)+len(pi.PreferredAffinityTerms)+len(pi.PreferredAntiAffinityTerms) > 0
}

func requiredTerms(pod *corev1.Pod, in []corev1.PodAffinityTerm, errs []error) ([]AffinityTerm, []error) {
	if len(in) == 0 {
		return nil, errs
	}
	out := make([]AffinityTerm, 0, len(in))
	for i := range in {
		t, err := NewAffinityTerm(pod, &in[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, t)
	}
	return out, errs
}

func weightedTerms(pod *corev1.Pod, in []corev1.WeightedPodAffinityTerm, errs []error) ([]WeightedAffinityTerm, []error) {
	if len(in) == 0 {
		return nil, errs
	}
	out := make([]WeightedAffinityTerm, 0, len(in))
	for i := range in {
		t, err := NewAffinityTerm(pod, &in[i].PodAffinityTerm)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, WeightedAffinityTerm{AffinityTerm: t, Weight: in[i].Weight})
	}
	return out, errs
}

// NewAffinityTerm parses one term of pod. No namespaces and no namespace
// selector mean the pod's own namespace; an empty namespace selector means
// every namespace. matchLabelKeys and mismatchLabelKeys add requirements
// on the pod's own label values.
func NewAffinityTerm(pod *corev1.Pod, t *corev1.PodAffinityTerm) (AffinityTerm, error) {
	sel, err := metav1.LabelSelectorAsSelector(t.LabelSelector)
	if err != nil {
		return AffinityTerm{}, err
	}
	if sel, err = withLabelKeys(sel, pod, t.MatchLabelKeys, t.MismatchLabelKeys); err != nil {
		return AffinityTerm{}, err
	}
	out := AffinityTerm{Selector: sel, TopologyKey: t.TopologyKey, Namespaces: sets.New(t.Namespaces...)}
	if t.NamespaceSelector != nil {
		if out.NamespaceSelector, err = metav1.LabelSelectorAsSelector(t.NamespaceSelector); err != nil {
			return AffinityTerm{}, err
		}
	} else if len(t.Namespaces) == 0 {
		out.Namespaces.Insert(pod.Namespace)
	}
	out.Sign()
	return out, nil
}

func withLabelKeys(sel labels.Selector, pod *corev1.Pod, match, mismatch []string) (labels.Selector, error) {
	if len(match)+len(mismatch) == 0 {
		return sel, nil
	}
	for _, k := range match {
		if v, ok := pod.Labels[k]; ok {
			r, err := labels.NewRequirement(k, "in", []string{v})
			if err != nil {
				return nil, err
			}
			sel = sel.Add(*r)
		}
	}
	for _, k := range mismatch {
		if v, ok := pod.Labels[k]; ok {
			r, err := labels.NewRequirement(k, "notin", []string{v})
			if err != nil {
				return nil, err
			}
			sel = sel.Add(*r)
		}
	}
	return sel, nil
}

// podInfoKey is where the scheduler leaves the PodInfo of the pod being
// scheduled, so that plugins do not recompute requests and terms.
const podInfoKey StateKey = "framework/PodInfo"

type podInfoState struct{ pi *PodInfo }

func (s *podInfoState) Clone() StateData { return s }

// WritePodInfo stores the cycle's PodInfo in the state.
func WritePodInfo(state *CycleState, pi *PodInfo) { state.Write(podInfoKey, &podInfoState{pi}) }

// PodInfoFor returns the cycle's PodInfo for pod, computing it when the
// state has none for this pod (tests, what-ifs).
func PodInfoFor(state *CycleState, pod *corev1.Pod) *PodInfo {
	if state != nil {
		if d, err := state.Read(podInfoKey); err == nil {
			if pi := d.(*podInfoState).pi; pi.Pod == pod || pi.Pod.UID == pod.UID && pod.UID != "" {
				return pi
			}
		}
	}
	return NewPodInfo(pod)
}
