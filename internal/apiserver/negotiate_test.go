package apiserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// kubectlGetAccept is what kubectl get sends.
const kubectlGetAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name   string
		accept string
		want   output
		status int // non-zero: an error with this code
	}{
		{"no header", "", output{media: mediaJSON}, 0},
		{"json", "application/json", output{media: mediaJSON}, 0},
		{"yaml", "application/yaml", output{media: mediaYAML}, 0},
		{"protobuf", "application/vnd.kubernetes.protobuf", output{media: mediaProtobuf}, 0},
		{"client-go default", "application/vnd.kubernetes.protobuf,application/json", output{media: mediaProtobuf}, 0},
		{"wildcard", "*/*", output{media: mediaJSON}, 0},
		{"application wildcard", "application/*", output{media: mediaJSON}, 0},
		{"json with charset", "application/json; charset=utf-8", output{media: mediaJSON}, 0},
		{"first acceptable wins", "text/html, application/yaml", output{media: mediaYAML}, 0},
		{"q-values order", "application/json;q=0.2, application/yaml;q=0.9", output{media: mediaYAML}, 0},
		{"equal q keeps order", "application/yaml, application/json", output{media: mediaYAML}, 0},
		{"q=0 refuses", "application/yaml;q=0, application/json;q=0.1", output{media: mediaJSON}, 0},
		{"malformed item skipped", "application/json;;q=, application/yaml", output{media: mediaYAML}, 0},
		{"kubectl table", kubectlGetAccept, output{media: mediaJSON, table: true}, 0},
		{"table v1beta1", "application/json;as=Table;v=v1beta1;g=meta.k8s.io", output{media: mediaJSON, table: true}, 0},
		{"table wrong group falls back", "application/json;as=Table;v=v1;g=example.com, application/json", output{media: mediaJSON}, 0},
		{"table wrong version falls back", "application/json;as=Table;v=v2;g=meta.k8s.io, application/yaml", output{media: mediaYAML}, 0},
		{"partial metadata json", "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1", output{media: mediaJSON, meta: true}, 0},
		{"partial metadata list protobuf", "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json", output{media: mediaProtobuf, meta: true}, 0},
		{"unknown as falls back", "application/json;as=Bogus;g=meta.k8s.io;v=v1, application/json", output{media: mediaJSON}, 0},
		{"html only", "text/html", output{}, http.StatusNotAcceptable},
		{"everything q=0", "application/json;q=0", output{}, http.StatusNotAcceptable},
		{"unknown as only", "application/json;as=Bogus;g=meta.k8s.io;v=v1", output{}, http.StatusNotAcceptable},
		{"garbage", ";;;", output{}, http.StatusNotAcceptable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/v1/pods", nil)
			if tc.accept != "" {
				r.Header.Set("Accept", tc.accept)
			}
			got, err := negotiate(r)
			if tc.status != 0 {
				if code := statusCode(err); code != tc.status {
					t.Fatalf("want status %d, got %v (code %d)", tc.status, err, code)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got != tc.want {
				t.Errorf("negotiate(%q) = %+v, want %+v", tc.accept, got, tc.want)
			}
		})
	}
}

// statusCode is the HTTP code of an API status error, or 0.
func statusCode(err error) int {
	if se, ok := err.(apierrors.APIStatus); ok {
		return int(se.Status().Code)
	}
	return 0
}

func TestBodyMedia(t *testing.T) {
	tests := []struct {
		ct     string
		want   string
		status int
	}{
		{"", mediaJSON, 0},
		{"application/json", mediaJSON, 0},
		{"application/json; charset=utf-8", mediaJSON, 0},
		{"application/merge-patch+json", "application/merge-patch+json", 0},
		{"application/vnd.kubernetes.protobuf", mediaProtobuf, 0},
		{"not a media type;;", "", http.StatusUnsupportedMediaType},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("POST", "/api/v1/pods", nil)
		r.Header.Set("Content-Type", tc.ct)
		got, err := bodyMedia(r)
		if tc.status != 0 {
			if code := statusCode(err); code != tc.status {
				t.Errorf("bodyMedia(%q): want %d, got %v", tc.ct, tc.status, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("bodyMedia(%q) = %q, %v; want %q", tc.ct, got, err, tc.want)
		}
	}
}

func TestDecodeInto(t *testing.T) {
	c := newCodecs()
	gvk := corev1.SchemeGroupVersion.WithKind("ConfigMap")
	protoCM, err := c.encode(&corev1.ConfigMap{TypeMeta: metav1.TypeMeta{Kind: "ConfigMap", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "p"}}, mediaProtobuf)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		body      string
		media     string
		fv        fieldValidation
		wantName  string
		warnings  int
		status    int
		errSubstr string
	}{
		{"json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}`, mediaJSON, fvWarn, "a", 0, 0, ""},
		{"json without kind uses the default", `{"metadata":{"name":"a"}}`, mediaJSON, fvWarn, "a", 0, 0, ""},
		{"yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ycm\n", mediaYAML, fvWarn, "ycm", 0, 0, ""},
		{"protobuf", string(protoCM), mediaProtobuf, fvWarn, "p", 0, 0, ""},
		{"unknown field warns", `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"},"bogus":1}`, mediaJSON, fvWarn, "a", 1, 0, ""},
		{"unknown field ignored", `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"},"bogus":1}`, mediaJSON, fvIgnore, "a", 0, 0, ""},
		{"unknown field strict", `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"},"bogus":1}`, mediaJSON, fvStrict, "", 0, 400, "bogus"},
		{"duplicate field strict", `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","name":"b"}}`, mediaJSON, fvStrict, "", 0, 400, "duplicate"},
		{"wrong kind", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a"}}`, mediaJSON, fvWarn, "", 0, 400, "must be of type ConfigMap"},
		{"wrong group", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a"}}`, mediaJSON, fvWarn, "", 0, 400, ""},
		{"empty body", "  \n", mediaJSON, fvWarn, "", 0, 400, "empty"},
		{"broken json", `{"metadata":`, mediaJSON, fvWarn, "", 0, 400, ""},
		{"json array", `[1,2]`, mediaJSON, fvWarn, "", 0, 400, ""},
		{"type mismatch", `{"kind":"ConfigMap","apiVersion":"v1","data":[1]}`, mediaJSON, fvWarn, "", 0, 400, ""},
		{"garbage protobuf", "k8s\x00\x0a\x0bgarbage", mediaProtobuf, fvWarn, "", 0, 400, ""},
		{"unsupported media", `{}`, "text/plain", fvWarn, "", 0, http.StatusUnsupportedMediaType, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj, warns, err := c.decodeInto([]byte(tc.body), tc.media, gvk, &corev1.ConfigMap{}, tc.fv)
			if tc.status != 0 {
				if code := statusCode(err); code != tc.status || !strings.Contains(err.Error(), tc.errSubstr) {
					t.Fatalf("want %d containing %q, got %v", tc.status, tc.errSubstr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got := obj.(*corev1.ConfigMap).Name; got != tc.wantName {
				t.Errorf("name %q, want %q", got, tc.wantName)
			}
			if len(warns) != tc.warnings {
				t.Errorf("warnings %q, want %d", warns, tc.warnings)
			}
		})
	}
}

func TestParseFieldValidation(t *testing.T) {
	for q, want := range map[string]fieldValidation{"": fvWarn, "Warn": fvWarn, "Strict": fvStrict, "Ignore": fvIgnore} {
		got, err := parseFieldValidation(httptest.NewRequest("POST", "/api/v1/pods?fieldValidation="+q, nil))
		if err != nil || got != want {
			t.Errorf("fieldValidation=%q: got %q, %v; want %q", q, got, err, want)
		}
	}
	if _, err := parseFieldValidation(httptest.NewRequest("POST", "/api/v1/pods?fieldValidation=strict", nil)); statusCode(err) != http.StatusBadRequest {
		t.Errorf("fieldValidation=strict (wrong case): want 400, got %v", err)
	}
}

func TestUnsupportedMediaStatus(t *testing.T) {
	err := unsupportedMedia("text/plain")
	se, ok := err.(apierrors.APIStatus)
	if !ok {
		t.Fatalf("%T is not an API status", err)
	}
	st := se.Status()
	if st.Code != http.StatusUnsupportedMediaType || st.Reason != metav1.StatusReasonUnsupportedMediaType {
		t.Errorf("status %+v", st)
	}
	if !apierrors.IsUnsupportedMediaType(err) {
		t.Error("apierrors.IsUnsupportedMediaType is false")
	}
}
