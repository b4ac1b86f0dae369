package core

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

type eventStrategy struct{ registry.BaseStrategy }

func eventResource() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Resource: "events", Kind: "Event", Singular: "event",
		ShortNames: []string{"ev"}, Namespaced: true,
		New:      func() runtime.Object { return &corev1.Event{} },
		NewList:  func() runtime.Object { return &corev1.EventList{} },
		Strategy: eventStrategy{},
		Fields:   EventFields,
		// Events expire --event-ttl after their last write, as upstream's
		// do; events.k8s.io/v1 shares this storage.
		LastWritten: EventLastWritten,
	}
}

// EventLastWritten is when an event was last written, as far as its
// fields tell: the latest of its creation, first and last timestamps, event
// time and series' last observation. Unset times are ignored.
func EventLastWritten(obj runtime.Object) time.Time {
	e := obj.(*corev1.Event)
	times := []time.Time{e.CreationTimestamp.Time, e.FirstTimestamp.Time, e.LastTimestamp.Time, e.EventTime.Time}
	if e.Series != nil {
		times = append(times, e.Series.LastObservedTime.Time)
	}
	var last time.Time
	for _, t := range times {
		if t.After(last) {
			last = t
		}
	}
	return last
}

// EventFields are the field selectors of core/v1 Events, which
// events.k8s.io/v1 shares. The source falls back to the reporting
// controller, as upstream does, so both generations of events match.
func EventFields(obj runtime.Object) fields.Set {
	e := obj.(*corev1.Event)
	src := e.Source.Component
	if src == "" {
		src = e.ReportingController
	}
	return fields.Set{
		"involvedObject.kind":            e.InvolvedObject.Kind,
		"involvedObject.namespace":       e.InvolvedObject.Namespace,
		"involvedObject.name":            e.InvolvedObject.Name,
		"involvedObject.uid":             string(e.InvolvedObject.UID),
		"involvedObject.apiVersion":      e.InvolvedObject.APIVersion,
		"involvedObject.resourceVersion": e.InvolvedObject.ResourceVersion,
		"involvedObject.fieldPath":       e.InvolvedObject.FieldPath,
		"reason":                         e.Reason,
		"reportingComponent":             e.ReportingController,
		"source":                         src,
		"type":                           e.Type,
	}
}

// Validate implements registry.Strategy.
func (eventStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	e := obj.(*corev1.Event)
	errs := validateMeta(&e.ObjectMeta, true, apivalidation.NameIsDNSSubdomain)
	return append(errs, validateEventObject(e)...)
}

// ValidateUpdate implements registry.Strategy.
func (eventStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	e, o := obj.(*corev1.Event), old.(*corev1.Event)
	errs := validateMetaUpdate(&e.ObjectMeta, &o.ObjectMeta)
	return append(errs, validateEventObject(e)...)
}

// validateEventObject follows the core/v1 rules: an event about a
// namespaced object lives in that object's namespace; one about a
// cluster-scoped object lives in "default" (or no namespace). Events with
// eventTime set are new-style and must name their reporter.
func validateEventObject(e *corev1.Event) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("involvedObject", "namespace")
	ns := e.InvolvedObject.Namespace
	switch {
	case ns == "" && e.Namespace != "" && e.Namespace != metav1.NamespaceDefault:
		errs = append(errs, field.Invalid(p, ns, "does not match event.namespace"))
	case ns != "" && ns != e.Namespace:
		errs = append(errs, field.Invalid(p, ns, "does not match event.namespace"))
	}
	if e.EventTime.IsZero() {
		return errs
	}
	if e.ReportingController == "" {
		errs = append(errs, field.Required(field.NewPath("reportingComponent"), ""))
	} else {
		// A qualified name, as upstream's legacy validation checks:
		// kube-scheduler reports as "default-scheduler".
		for _, msg := range validation.IsQualifiedName(e.ReportingController) {
			errs = append(errs, field.Invalid(field.NewPath("reportingComponent"), e.ReportingController, msg))
		}
	}
	if e.ReportingInstance == "" {
		errs = append(errs, field.Required(field.NewPath("reportingInstance"), ""))
	}
	if e.Action == "" {
		errs = append(errs, field.Required(field.NewPath("action"), ""))
	}
	types := []string{corev1.EventTypeNormal, corev1.EventTypeWarning}
	if !contains(types, e.Type) {
		errs = append(errs, field.NotSupported(field.NewPath("type"), e.Type, types))
	}
	return errs
}
