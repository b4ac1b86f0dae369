package events

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ToCore converts an events.k8s.io/v1 Event to the core/v1 Event it is
// stored as. The mapping is field for field, so FromCore(ToCore(e))
// returns e unchanged.
func ToCore(e *eventsv1.Event) *corev1.Event {
	out := &corev1.Event{
		TypeMeta:            typeMeta("v1"),
		ObjectMeta:          *e.ObjectMeta.DeepCopy(),
		InvolvedObject:      e.Regarding,
		Reason:              e.Reason,
		Message:             e.Note,
		Source:              e.DeprecatedSource,
		FirstTimestamp:      e.DeprecatedFirstTimestamp,
		LastTimestamp:       e.DeprecatedLastTimestamp,
		Count:               e.DeprecatedCount,
		Type:                e.Type,
		EventTime:           e.EventTime,
		Action:              e.Action,
		ReportingController: e.ReportingController,
		ReportingInstance:   e.ReportingInstance,
	}
	if e.Related != nil {
		out.Related = e.Related.DeepCopy()
	}
	if e.Series != nil {
		out.Series = &corev1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return out
}

// FromCore converts a stored core/v1 Event to events.k8s.io/v1.
func FromCore(e *corev1.Event) *eventsv1.Event {
	out := &eventsv1.Event{
		TypeMeta:                 typeMeta("events.k8s.io/v1"),
		ObjectMeta:               *e.ObjectMeta.DeepCopy(),
		EventTime:                e.EventTime,
		ReportingController:      e.ReportingController,
		ReportingInstance:        e.ReportingInstance,
		Action:                   e.Action,
		Reason:                   e.Reason,
		Regarding:                e.InvolvedObject,
		Note:                     e.Message,
		Type:                     e.Type,
		DeprecatedSource:         e.Source,
		DeprecatedFirstTimestamp: e.FirstTimestamp,
		DeprecatedLastTimestamp:  e.LastTimestamp,
		DeprecatedCount:          e.Count,
	}
	if e.Related != nil {
		out.Related = e.Related.DeepCopy()
	}
	if e.Series != nil {
		out.Series = &eventsv1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return out
}

func typeMeta(apiVersion string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: "Event"}
}

// toStorage and fromStorage adapt the conversions to registry.Conversion.
func toStorage(obj runtime.Object) (runtime.Object, error) {
	switch e := obj.(type) {
	case *eventsv1.Event:
		return ToCore(e), nil
	case *corev1.Event:
		return e, nil
	}
	return nil, fmt.Errorf("events: cannot convert %T to a core/v1 Event", obj)
}

func fromStorage(obj runtime.Object) (runtime.Object, error) {
	switch e := obj.(type) {
	case *corev1.Event:
		return FromCore(e), nil
	case *eventsv1.Event:
		return e, nil
	}
	return nil, fmt.Errorf("events: cannot convert %T to an events.k8s.io/v1 Event", obj)
}

// asEvent returns obj as an events.k8s.io/v1 Event, converting a stored
// core/v1 Event, so the strategy works whichever form the store passes.
func asEvent(obj runtime.Object) *eventsv1.Event {
	if e, ok := obj.(*corev1.Event); ok {
		return FromCore(e)
	}
	return obj.(*eventsv1.Event)
}
