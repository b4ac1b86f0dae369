// Package events serves events.k8s.io/v1 Events, which are stored as
// core/v1 Events: it holds the field mapping between the two, the
// events.k8s.io validation rules and the registry entry. It must not do
// I/O or aggregate events (that is the recorder's job in clients).
package events

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/registry/core"
)

// Length limits of the events.k8s.io/v1 API.
const (
	maxShortField = 128
	maxNote       = 1024
)

// EventStrategy implements registry.Strategy for events.k8s.io/v1 Events.
// It accepts either the served type or the stored core/v1 type.
type EventStrategy struct{ registry.BaseStrategy }

// Validate checks a new Event with the stricter events.k8s.io rules: the
// structured fields are required and the deprecated ones must be unset.
func (EventStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	e := asEvent(obj)
	errs := apivalidation.ValidateObjectMeta(&e.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	errs = append(errs, validateSeries(e.Series)...)
	if e.EventTime.IsZero() {
		errs = append(errs, field.Required(field.NewPath("eventTime"), ""))
	}
	if e.Type != corev1.EventTypeNormal && e.Type != corev1.EventTypeWarning {
		errs = append(errs, field.Invalid(field.NewPath("type"), "", fmt.Sprintf("has invalid value: %v", e.Type)))
	}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"deprecatedFirstTimestamp", !e.DeprecatedFirstTimestamp.IsZero()},
		{"deprecatedLastTimestamp", !e.DeprecatedLastTimestamp.IsZero()},
		{"deprecatedCount", e.DeprecatedCount != 0},
		{"deprecatedSource", e.DeprecatedSource != corev1.EventSource{}},
	} {
		if f.set {
			errs = append(errs, field.Invalid(field.NewPath(f.name), "", "needs to be unset"))
		}
	}
	return append(errs, validateCommon(e)...)
}

func validateCommon(e *eventsv1.Event) field.ErrorList {
	var errs field.ErrorList
	rc := field.NewPath("reportingController")
	if e.ReportingController == "" {
		errs = append(errs, field.Required(rc, ""))
	} else {
		for _, msg := range validation.IsQualifiedName(e.ReportingController) {
			errs = append(errs, field.Invalid(rc, e.ReportingController, msg))
		}
	}
	for _, f := range []struct{ name, v string }{
		{"reportingInstance", e.ReportingInstance}, {"action", e.Action}, {"reason", e.Reason},
	} {
		if f.v == "" {
			errs = append(errs, field.Required(field.NewPath(f.name), ""))
		}
		if len(f.v) > maxShortField {
			errs = append(errs, field.Invalid(field.NewPath(f.name), "", fmt.Sprintf("can have at most %d characters", maxShortField)))
		}
	}
	if len(e.Note) > maxNote {
		errs = append(errs, field.Invalid(field.NewPath("note"), "", fmt.Sprintf("can have at most %d characters", maxNote)))
	}
	if ns := e.Regarding.Namespace; ns != "" && ns != e.Namespace {
		errs = append(errs, field.Invalid(field.NewPath("regarding", "namespace"), ns, "does not match event.namespace"))
	}
	return errs
}

func validateSeries(s *eventsv1.EventSeries) field.ErrorList {
	if s == nil {
		return nil
	}
	var errs field.ErrorList
	if s.Count < 2 {
		errs = append(errs, field.Invalid(field.NewPath("series", "count"), "", "should be at least 2"))
	}
	if s.LastObservedTime.IsZero() {
		errs = append(errs, field.Required(field.NewPath("series", "lastObservedTime"), ""))
	}
	return errs
}

// ValidateUpdate checks an update: only the series and metadata may
// change, because an event records something that already happened.
func (EventStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	e, o := asEvent(obj), asEvent(old)
	errs := apivalidation.ValidateObjectMetaUpdate(&e.ObjectMeta, &o.ObjectMeta, field.NewPath("metadata"))
	errs = append(errs, validateSeries(e.Series)...)
	for _, f := range []struct {
		name     string
		new, old any
	}{
		{"regarding", e.Regarding, o.Regarding}, {"reason", e.Reason, o.Reason}, {"note", e.Note, o.Note},
		{"deprecatedSource", e.DeprecatedSource, o.DeprecatedSource},
		{"deprecatedFirstTimestamp", e.DeprecatedFirstTimestamp, o.DeprecatedFirstTimestamp},
		{"deprecatedLastTimestamp", e.DeprecatedLastTimestamp, o.DeprecatedLastTimestamp},
		{"deprecatedCount", e.DeprecatedCount, o.DeprecatedCount}, {"type", e.Type, o.Type},
		{"eventTime", e.EventTime, o.EventTime}, {"action", e.Action, o.Action}, {"related", e.Related, o.Related},
		{"reportingController", e.ReportingController, o.ReportingController},
		{"reportingInstance", e.ReportingInstance, o.ReportingInstance},
	} {
		errs = append(errs, apivalidation.ValidateImmutableField(f.new, f.old, field.NewPath(f.name))...)
	}
	return errs
}

// Fields returns the selectable fields of an Event under the core/v1 names
// (events share one storage, so both APIs filter the same way).
func Fields(obj runtime.Object) fields.Set {
	e, ok := obj.(*corev1.Event)
	if !ok {
		e = ToCore(obj.(*eventsv1.Event))
	}
	return core.EventFields(e)
}

// Resources returns the events.k8s.io/v1 resources.
func Resources() []*registry.Resource {
	return []*registry.Resource{{
		Group: "events.k8s.io", Version: "v1", Resource: "events",
		Kind: "Event", Singular: "event",
		ShortNames: []string{"ev"},
		Namespaced: true,
		New:        func() runtime.Object { return &eventsv1.Event{} },
		NewList:    func() runtime.Object { return &eventsv1.EventList{} },
		Strategy:   EventStrategy{},
		Fields:     Fields,
		Conversion: &registry.Conversion{
			Storage:     schema.GroupVersionResource{Group: "", Version: "v1", Resource: "events"},
			ToStorage:   toStorage,
			FromStorage: fromStorage,
		},
	}}
}
