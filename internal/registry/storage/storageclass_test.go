package storageapi

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var ctx = context.Background()

func class() *storagev1.StorageClass {
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard", ResourceVersion: "1"},
		Provisioner: "rancher.io/local-path", Parameters: map[string]string{"a": "b"}}
}

func TestDefault(t *testing.T) {
	sc := class()
	StorageClassStrategy{}.Default(sc)
	if *sc.ReclaimPolicy != corev1.PersistentVolumeReclaimDelete || *sc.VolumeBindingMode != storagev1.VolumeBindingImmediate {
		t.Errorf("defaults: %v %v", *sc.ReclaimPolicy, *sc.VolumeBindingMode)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*storagev1.StorageClass)
		typ    field.ErrorType
		path   string
	}{
		{"valid", func(*storagev1.StorageClass) {}, "", ""},
		{"no provisioner", func(s *storagev1.StorageClass) { s.Provisioner = "" }, field.ErrorTypeRequired, "provisioner"},
		{"bad provisioner", func(s *storagev1.StorageClass) { s.Provisioner = "a b" }, field.ErrorTypeInvalid, "provisioner"},
		{"bad reclaim", func(s *storagev1.StorageClass) {
			p := corev1.PersistentVolumeReclaimRecycle
			s.ReclaimPolicy = &p
		}, field.ErrorTypeNotSupported, "reclaimPolicy"},
		{"bad binding", func(s *storagev1.StorageClass) {
			m := storagev1.VolumeBindingMode("Later")
			s.VolumeBindingMode = &m
		}, field.ErrorTypeNotSupported, "volumeBindingMode"},
		{"empty topology", func(s *storagev1.StorageClass) { s.AllowedTopologies = []corev1.TopologySelectorTerm{{}} },
			field.ErrorTypeRequired, "allowedTopologies[0].matchLabelExpressions"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := class()
			StorageClassStrategy{}.Default(sc)
			tc.mutate(sc)
			errs := StorageClassStrategy{}.Validate(ctx, sc)
			if tc.path == "" {
				if len(errs) != 0 {
					t.Fatalf("unexpected: %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Type != tc.typ || errs[0].Field != tc.path {
				t.Fatalf("want %s at %s, got %v", tc.typ, tc.path, errs)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	old := class()
	StorageClassStrategy{}.Default(old)
	upd := old.DeepCopy()
	upd.AllowVolumeExpansion = new(true)
	upd.Labels = map[string]string{"x": "y"}
	if errs := (StorageClassStrategy{}).ValidateUpdate(ctx, upd, old); len(errs) != 0 {
		t.Fatalf("allowed update rejected: %v", errs)
	}
	upd.Provisioner = "other.io/x"
	upd.Parameters = nil
	m := storagev1.VolumeBindingWaitForFirstConsumer
	upd.VolumeBindingMode = &m
	errs := StorageClassStrategy{}.ValidateUpdate(ctx, upd, old)
	want := []string{"parameters", "provisioner", "volumeBindingMode"}
	if len(errs) != len(want) {
		t.Fatalf("got %v", errs)
	}
	for i, w := range want {
		if errs[i].Field != w {
			t.Errorf("error %d at %s, want %s", i, errs[i].Field, w)
		}
	}
}

func TestResources(t *testing.T) {
	r := Resources()[0]
	if r.Namespaced || r.ShortNames[0] != "sc" || r.Group != "storage.k8s.io" {
		t.Errorf("unexpected %+v", r)
	}
}
