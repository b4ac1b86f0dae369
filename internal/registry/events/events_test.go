package events

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	ctx = context.Background()
	now = metav1.NewMicroTime(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
)

func event() *eventsv1.Event {
	return &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: "web.17a", Namespace: "default", ResourceVersion: "1"},
		EventTime:           now,
		ReportingController: "example.com/controller",
		ReportingInstance:   "controller-0",
		Action:              "Scale",
		Reason:              "Scaled",
		Regarding:           corev1.ObjectReference{Kind: "Deployment", Namespace: "default", Name: "web", UID: "u1", APIVersion: "apps/v1"},
		Note:                "scaled up",
		Type:                corev1.EventTypeNormal,
	}
}

func TestRoundTrip(t *testing.T) {
	full := event()
	full.Series = &eventsv1.EventSeries{Count: 3, LastObservedTime: now}
	full.Related = &corev1.ObjectReference{Kind: "Pod", Name: "web-1"}
	full.DeprecatedSource = corev1.EventSource{Component: "c", Host: "h"}
	full.DeprecatedFirstTimestamp = metav1.NewTime(now.Time)
	full.DeprecatedLastTimestamp = metav1.NewTime(now.Time)
	full.DeprecatedCount = 4
	full.TypeMeta = metav1.TypeMeta{APIVersion: "events.k8s.io/v1", Kind: "Event"}

	c := ToCore(full)
	checks := []struct {
		name      string
		got, want any
	}{
		{"involvedObject", c.InvolvedObject, full.Regarding}, {"message", c.Message, full.Note},
		{"reportingComponent", c.ReportingController, full.ReportingController},
		{"reportingInstance", c.ReportingInstance, full.ReportingInstance},
		{"source", c.Source, full.DeprecatedSource}, {"count", c.Count, full.DeprecatedCount},
		{"firstTimestamp", c.FirstTimestamp, full.DeprecatedFirstTimestamp},
		{"lastTimestamp", c.LastTimestamp, full.DeprecatedLastTimestamp},
		{"series.count", c.Series.Count, full.Series.Count}, {"related", *c.Related, *full.Related},
		{"action", c.Action, full.Action}, {"reason", c.Reason, full.Reason}, {"type", c.Type, full.Type},
		{"eventTime", c.EventTime, full.EventTime}, {"apiVersion", c.APIVersion, "v1"},
	}
	for _, ch := range checks {
		if !apiequality.Semantic.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s: got %v want %v", ch.name, ch.got, ch.want)
		}
	}
	if back := FromCore(c); !apiequality.Semantic.DeepEqual(back, full) {
		t.Errorf("events round trip differs:\n got %+v\nwant %+v", back, full)
	}
	core := &corev1.Event{
		TypeMeta:       metav1.TypeMeta{APIVersion: "v1", Kind: "Event"},
		ObjectMeta:     metav1.ObjectMeta{Name: "x", Namespace: "ns"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "p"},
		Reason:         "Pulled", Message: "pulled image", Source: corev1.EventSource{Component: "kubelet", Host: "node-1"},
		FirstTimestamp: metav1.NewTime(now.Time), LastTimestamp: metav1.NewTime(now.Time), Count: 2, Type: "Normal",
	}
	if back := ToCore(FromCore(core)); !apiequality.Semantic.DeepEqual(back, core) {
		t.Errorf("core round trip differs:\n got %+v\nwant %+v", back, core)
	}
	obj, err := toStorage(full)
	if err != nil || obj.(*corev1.Event).Message != "scaled up" {
		t.Errorf("toStorage: %v %v", obj, err)
	}
	obj, err = fromStorage(c)
	if err != nil || obj.(*eventsv1.Event).Note != "scaled up" {
		t.Errorf("fromStorage: %v %v", obj, err)
	}
	if _, err := toStorage(&corev1.Pod{}); err == nil {
		t.Error("toStorage accepted a Pod")
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*eventsv1.Event)
		typ    field.ErrorType
		path   string
	}{
		{"valid", func(*eventsv1.Event) {}, "", ""},
		{"no eventTime", func(e *eventsv1.Event) { e.EventTime = metav1.MicroTime{} }, field.ErrorTypeRequired, "eventTime"},
		{"bad type", func(e *eventsv1.Event) { e.Type = "Info" }, field.ErrorTypeInvalid, "type"},
		{"deprecated count", func(e *eventsv1.Event) { e.DeprecatedCount = 1 }, field.ErrorTypeInvalid, "deprecatedCount"},
		{"deprecated source", func(e *eventsv1.Event) { e.DeprecatedSource.Host = "h" }, field.ErrorTypeInvalid, "deprecatedSource"},
		{"no controller", func(e *eventsv1.Event) { e.ReportingController = "" }, field.ErrorTypeRequired, "reportingController"},
		{"bad controller", func(e *eventsv1.Event) { e.ReportingController = "a b" }, field.ErrorTypeInvalid, "reportingController"},
		{"no action", func(e *eventsv1.Event) { e.Action = "" }, field.ErrorTypeRequired, "action"},
		{"long reason", func(e *eventsv1.Event) { e.Reason = string(make([]byte, 129)) }, field.ErrorTypeInvalid, "reason"},
		{"long note", func(e *eventsv1.Event) { e.Note = string(make([]byte, 1025)) }, field.ErrorTypeInvalid, "note"},
		{"short series", func(e *eventsv1.Event) { e.Series = &eventsv1.EventSeries{Count: 1, LastObservedTime: now} },
			field.ErrorTypeInvalid, "series.count"},
		{"other namespace", func(e *eventsv1.Event) { e.Regarding.Namespace = "kube-system" }, field.ErrorTypeInvalid, "regarding.namespace"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := event()
			tc.mutate(e)
			for _, obj := range []any{e, ToCore(e)} {
				var errs field.ErrorList
				if ev, ok := obj.(*eventsv1.Event); ok {
					errs = EventStrategy{}.Validate(ctx, ev)
				} else {
					errs = EventStrategy{}.Validate(ctx, obj.(*corev1.Event))
				}
				if tc.path == "" {
					if len(errs) != 0 {
						t.Fatalf("unexpected: %v", errs)
					}
					continue
				}
				if len(errs) != 1 || errs[0].Type != tc.typ || errs[0].Field != tc.path {
					t.Fatalf("%T: want %s at %s, got %v", obj, tc.typ, tc.path, errs)
				}
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	old := event()
	upd := old.DeepCopy()
	upd.Series = &eventsv1.EventSeries{Count: 2, LastObservedTime: now}
	if errs := (EventStrategy{}).ValidateUpdate(ctx, upd, old); len(errs) != 0 {
		t.Fatalf("series update rejected: %v", errs)
	}
	upd.Note = "changed"
	upd.Reason = "Other"
	errs := EventStrategy{}.ValidateUpdate(ctx, upd, old)
	if len(errs) != 2 || errs[0].Field != "reason" || errs[1].Field != "note" || errs[0].Detail != "field is immutable" {
		t.Errorf("got %v", errs)
	}
}

func TestFields(t *testing.T) {
	r := Resources()[0]
	f := r.Fields(event())
	if f["involvedObject.name"] != "web" || f["involvedObject.kind"] != "Deployment" || f["reason"] != "Scaled" ||
		f["type"] != "Normal" || f["reportingComponent"] != "example.com/controller" || f["source"] != "example.com/controller" {
		t.Errorf("fields = %v", f)
	}
	if got := r.Fields(&corev1.Event{Source: corev1.EventSource{Component: "kubelet"}})["source"]; got != "kubelet" {
		t.Errorf("source = %q", got)
	}
	if r.Conversion == nil || r.Conversion.Storage.Resource != "events" || r.Conversion.Storage.Group != "" || r.ShortNames[0] != "ev" {
		t.Errorf("resource = %+v", r)
	}
}
