package core

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// wantErr names one expected validation error by path and type.
type wantErr struct {
	path string
	typ  field.ErrorType
}

// checkErrs asserts that errs holds exactly the wanted errors (order
// ignored); want nil means the object must be valid.
func checkErrs(t *testing.T, errs field.ErrorList, want ...wantErr) {
	t.Helper()
	got := map[wantErr]int{}
	for _, e := range errs {
		got[wantErr{e.Field, e.Type}]++
	}
	for _, w := range want {
		if got[w] == 0 {
			t.Errorf("missing error %s %s; got %v", w.path, w.typ, errs)
			continue
		}
		got[w]--
	}
	for k, n := range got {
		if n > 0 {
			t.Errorf("unexpected error %s %s in %v", k.path, k.typ, errs)
		}
	}
}

// hasDetail reports whether some error's detail contains s.
func hasDetail(errs field.ErrorList, s string) bool {
	for _, e := range errs {
		if strings.Contains(e.Detail, s) {
			return true
		}
	}
	return false
}
