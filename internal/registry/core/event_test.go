package core

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestEventLastWritten(t *testing.T) {
	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) metav1.Time { return metav1.NewTime(base.Add(d)) }
	micro := func(d time.Duration) metav1.MicroTime { return metav1.NewMicroTime(base.Add(d)) }
	tests := []struct {
		name string
		ev   corev1.Event
		want time.Time
	}{
		{"nothing set", corev1.Event{}, time.Time{}},
		{"creation only", corev1.Event{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: at(0)}}, base},
		{"last timestamp after creation", corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{CreationTimestamp: at(0)},
			FirstTimestamp: at(-time.Hour), LastTimestamp: at(time.Minute),
		}, base.Add(time.Minute)},
		{"old timestamps, newer creation", corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{CreationTimestamp: at(0)},
			FirstTimestamp: at(-3 * time.Hour), LastTimestamp: at(-2 * time.Hour),
		}, base},
		{"first timestamp only", corev1.Event{FirstTimestamp: at(time.Second)}, base.Add(time.Second)},
		{"event time", corev1.Event{
			ObjectMeta: metav1.ObjectMeta{CreationTimestamp: at(0)},
			EventTime:  micro(2 * time.Second),
		}, base.Add(2 * time.Second)},
		{"series last observed", corev1.Event{
			ObjectMeta: metav1.ObjectMeta{CreationTimestamp: at(0)},
			EventTime:  micro(time.Second),
			Series:     &corev1.EventSeries{Count: 3, LastObservedTime: micro(time.Hour)},
		}, base.Add(time.Hour)},
		{"series with zero observation", corev1.Event{
			EventTime: micro(time.Second),
			Series:    &corev1.EventSeries{Count: 2},
		}, base.Add(time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EventLastWritten(&tt.ev); !got.Equal(tt.want) {
				t.Errorf("EventLastWritten = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEventResourceExpires(t *testing.T) {
	if eventResource().LastWritten == nil {
		t.Fatal("core/v1 events have no LastWritten: they would never expire")
	}
}
