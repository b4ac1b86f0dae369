package apiserver

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

// TestJSONPatchLimits: a JSON patch is a tiny body that can make the server
// do unbounded work, so upstream caps its operations (10000) and the bytes
// its copy operations may duplicate. Both must be client errors.
func TestJSONPatchLimits(t *testing.T) {
	cms := testResources(t)["/configmaps"]
	orig := []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"k":"` + strings.Repeat("x", 64<<10) + `"}}`)
	var tooMany []string
	for range 10001 {
		tooMany = append(tooMany, `{"op":"test","path":"/metadata/name","value":"c"}`)
	}
	// Each copy doubles data: 64KiB * 2^8 = 16MiB, far past any sane
	// request, from a 1KiB body.
	var bomb []string
	for i := range 8 {
		bomb = append(bomb, fmt.Sprintf(`{"op":"copy","from":"/data","path":"/data/c%d"}`, i))
	}
	tests := []struct {
		name  string
		patch string
	}{
		{"more than 10000 operations", "[" + strings.Join(tooMany, ",") + "]"},
		{"copy amplification", "[" + strings.Join(bomb, ",") + "]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := patchJSON(types.JSONPatchType, orig, []byte(tc.patch), cms)
			code := statusCode(err)
			if code < http.StatusBadRequest || code > 499 {
				t.Fatalf("patchJSON accepted it (result %d bytes, err %v); want a 4xx", len(out), err)
			}
		})
	}
}

// TestJSONPatchRootWithoutValue is the crash FuzzDecodeRequest found (kept
// in testdata/fuzz/FuzzDecodeRequest/8279780617f2ad24): gopkg.in/evanphx/
// json-patch.v4 dereferences a nil value for these operations.
func TestJSONPatchRootWithoutValue(t *testing.T) {
	cms := testResources(t)["/configmaps"]
	orig := []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}`)
	for _, patch := range []string{`[{"op":"replace","path":""}]`, `[{"op":"test","path":""}]`} {
		t.Run(patch, func(t *testing.T) {
			_, err := patchJSON(types.JSONPatchType, orig, []byte(patch), cms)
			if statusCode(err) != http.StatusBadRequest {
				t.Fatalf("want 400, got %v", err)
			}
		})
	}
}
