package core

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
)

func TestResourcesNames(t *testing.T) {
	type want struct {
		kind, short, category string
		namespaced, status    bool
		scale                 bool
	}
	cases := map[string]want{
		"pods":                   {"Pod", "po", "all", true, true, false},
		"services":               {"Service", "svc", "all", true, true, false},
		"namespaces":             {"Namespace", "ns", "", false, true, false},
		"nodes":                  {"Node", "no", "", false, true, false},
		"configmaps":             {"ConfigMap", "cm", "", true, false, false},
		"secrets":                {"Secret", "", "", true, false, false},
		"endpoints":              {"Endpoints", "ep", "", true, false, false},
		"events":                 {"Event", "ev", "", true, false, false},
		"replicationcontrollers": {"ReplicationController", "rc", "all", true, true, true},
		"serviceaccounts":        {"ServiceAccount", "sa", "", true, false, false},
		"persistentvolumes":      {"PersistentVolume", "pv", "", false, true, false},
		"persistentvolumeclaims": {"PersistentVolumeClaim", "pvc", "", true, true, false},
		"resourcequotas":         {"ResourceQuota", "quota", "", true, true, false},
		"limitranges":            {"LimitRange", "limits", "", true, false, false},
	}
	res := Resources(Options{})
	if len(res) != len(cases) {
		t.Fatalf("got %d resources, want %d", len(res), len(cases))
	}
	for _, r := range res {
		w, ok := cases[r.Resource]
		if !ok {
			t.Errorf("unexpected resource %s", r.Resource)
			continue
		}
		if r.Group != "" || r.Version != "v1" || r.Kind != w.kind || r.Namespaced != w.namespaced ||
			r.HasStatus != w.status || (r.Scale != nil) != w.scale {
			t.Errorf("%s: %+v", r.Resource, r)
		}
		if (w.short == "" && len(r.ShortNames) != 0) || (w.short != "" && (len(r.ShortNames) != 1 || r.ShortNames[0] != w.short)) {
			t.Errorf("%s: shortNames %v", r.Resource, r.ShortNames)
		}
		if (w.category == "" && len(r.Categories) != 0) || (w.category != "" && (len(r.Categories) != 1 || r.Categories[0] != w.category)) {
			t.Errorf("%s: categories %v", r.Resource, r.Categories)
		}
		if r.Strategy == nil {
			t.Errorf("%s: no strategy", r.Resource)
		}
		if _, err := meta.ListAccessor(r.NewList()); err != nil {
			t.Errorf("%s: NewList: %v", r.Resource, err)
		}
		if _, err := meta.Accessor(r.New()); err != nil {
			t.Errorf("%s: New: %v", r.Resource, err)
		}
		if r.Singular == "" || r.Singular != lower(r.Kind) {
			t.Errorf("%s: singular %q", r.Resource, r.Singular)
		}
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
