package printers

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func eventColumns() []metav1.TableColumnDefinition {
	name := nameCol()
	name.Priority = 1
	return []metav1.TableColumnDefinition{
		str("Last Seen", "Time since the event was last observed."),
		str("Type", "Type of the event (Normal or Warning)."),
		str("Reason", "Short machine-readable reason for the event."),
		str("Object", "The object the event is about."),
		wide("Subobject", "Field path within the object, if any."),
		wide("Source", "Component and host that reported the event."),
		str("Message", "Human-readable description of the event."),
		wide("First Seen", "Time since the event was first observed."),
		col("Count", "integer", "Number of times the event occurred.", 1),
		name,
	}
}

func init() {
	register("", "events", typed[*corev1.Event]{cols: eventColumns(), cells: eventCells})
	register("events.k8s.io", "events", typed[*eventsv1.Event]{
		cols: eventColumns(),
		cells: func(o *eventsv1.Event, now time.Time) ([]interface{}, error) {
			return eventCells(coreEvent(o), now)
		},
	})
}

func eventCells(o *corev1.Event, now time.Time) ([]interface{}, error) {
	first := since(o.FirstTimestamp, now)
	if o.FirstTimestamp.IsZero() {
		first = sinceMicro(o.EventTime, now)
	}
	last := since(o.LastTimestamp, now)
	if o.LastTimestamp.IsZero() {
		last = first
	}
	count := o.Count
	if o.Series != nil {
		last = sinceMicro(o.Series.LastObservedTime, now)
		count = o.Series.Count
	} else if count == 0 {
		count = 1
	}
	target := strings.ToLower(o.InvolvedObject.Kind)
	if o.InvolvedObject.Name != "" {
		target = fmt.Sprintf("%s/%s", target, o.InvolvedObject.Name)
	}
	return []interface{}{
		last, o.Type, o.Reason, target, o.InvolvedObject.FieldPath,
		eventSource(o), strings.TrimSpace(o.Message), first, int64(count), o.Name,
	}, nil
}

// eventSource prefers the legacy source and falls back to the reporting
// fields that events.k8s.io clients fill in.
func eventSource(o *corev1.Event) string {
	component := firstNonEmpty(o.Source.Component, o.ReportingController)
	instance := firstNonEmpty(o.Source.Host, o.ReportingInstance)
	if instance == "" {
		return component
	}
	return component + ", " + instance
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// coreEvent maps an events.k8s.io event onto the core shape so both APIs
// print identically.
func coreEvent(e *eventsv1.Event) *corev1.Event {
	out := &corev1.Event{
		ObjectMeta:          e.ObjectMeta,
		InvolvedObject:      e.Regarding,
		Reason:              e.Reason,
		Message:             e.Note,
		Source:              e.DeprecatedSource,
		FirstTimestamp:      e.DeprecatedFirstTimestamp,
		LastTimestamp:       e.DeprecatedLastTimestamp,
		Count:               e.DeprecatedCount,
		Type:                e.Type,
		EventTime:           e.EventTime,
		ReportingController: e.ReportingController,
		ReportingInstance:   e.ReportingInstance,
		Action:              e.Action,
	}
	if e.Series != nil {
		out.Series = &corev1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return out
}
