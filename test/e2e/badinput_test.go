package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// cmJSON is a ConfigMap body; extra fields are merged in at top level.
func cmJSON(t *testing.T, apiVersion, kind, name string, extra map[string]any) []byte {
	t.Helper()
	obj := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": map[string]any{"name": name}}
	for k, v := range extra {
		obj[k] = v
	}
	return mustJSON(t, obj)
}

// configMapNames lists the ConfigMaps in ns: a bad request must not
// change it.
func configMapNames(t *testing.T, c *rawClient, ns string) []string {
	t.Helper()
	resp := c.do(t, http.MethodGet, "/api/v1/namespaces/"+ns+"/configmaps", nil)
	if resp.code != http.StatusOK {
		t.Fatalf("list configmaps: HTTP %d %s", resp.code, truncate(resp.body))
	}
	var list struct {
		Items []struct{ Metadata struct{ Name string } }
	}
	if err := json.Unmarshal(resp.body, &list); err != nil {
		t.Fatalf("decode list: %v", err)
	}
	var names []string
	for _, it := range list.Items {
		names = append(names, it.Metadata.Name)
	}
	return names
}

func TestBadInput_Raw(t *testing.T) {
	srv := requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "bad-raw")
	c := newRawClient(t, srv)
	base := "/api/v1/namespaces/" + ns + "/configmaps"
	if resp := c.do(t, http.MethodPost, base, cmJSON(t, "v1", "ConfigMap", "existing", map[string]any{"data": map[string]string{"k": "v"}})); resp.code != http.StatusCreated {
		t.Fatalf("create existing: HTTP %d %s", resp.code, truncate(resp.body))
	}
	big := cmJSON(t, "v1", "ConfigMap", "big", map[string]any{"data": map[string]string{"v": strings.Repeat("x", 4<<20)}})
	tests := []struct {
		name         string
		method, path string
		body         []byte
		code         int
		reason       string
		msg          string // substring of the Status message
		contentType  string // default: JSON, merge patch for PATCH
	}{
		{"malformed json", "POST", base, []byte(`{"apiVersion":"v1","kind":"ConfigMap",`), 400, "BadRequest", "", ""},
		{"unknown kind", "POST", base, cmJSON(t, "v1", "Gizmo", "gizmo", nil), 400, "BadRequest", "Gizmo", ""},
		{"wrong apiVersion", "POST", base, cmJSON(t, "apps/v1", "ConfigMap", "wrongver", nil), 400, "BadRequest", "", ""},
		{"other kind for endpoint", "POST", base, cmJSON(t, "v1", "Secret", "wrongkind", nil), 400, "BadRequest", "", ""},
		{"body over 3MiB", "POST", base, big, 413, "RequestEntityTooLarge", "", ""},
		{"bad label selector", "GET", base + "?labelSelector=a%20in%20(", nil, 400, "BadRequest", "", ""},
		{"bad field selector", "GET", base + "?fieldSelector=spec.bogus%3Dx", nil, 400, "BadRequest", "spec.bogus", ""},
		{"invalid name", "POST", base, cmJSON(t, "v1", "ConfigMap", "Bad_Name", nil), 422, "Invalid", "metadata.name", ""},
		{"duplicate", "POST", base, cmJSON(t, "v1", "ConfigMap", "existing", nil), 409, "AlreadyExists", `configmaps "existing" already exists`, ""},
		{"stale resourceVersion", "PUT", base + "/existing",
			cmJSON(t, "v1", "ConfigMap", "existing", map[string]any{"metadata": map[string]any{"name": "existing", "resourceVersion": "1"}, "data": map[string]string{"k": "changed"}}),
			409, "Conflict", "the object has been modified", ""},
		{"name mismatch on update", "PUT", base + "/existing", cmJSON(t, "v1", "ConfigMap", "other", nil), 400, "BadRequest", "", ""},
		{"missing namespace", "POST", "/api/v1/namespaces/e2e-no-such-ns/configmaps", cmJSON(t, "v1", "ConfigMap", "orphan", nil), 404, "NotFound", `namespaces "e2e-no-such-ns" not found`, ""},
		{"strict unknown field", "POST", base + "?fieldValidation=Strict", cmJSON(t, "v1", "ConfigMap", "strict", map[string]any{"bogus": 1}), 400, "BadRequest", `unknown field "bogus"`, ""},
		{"unknown resource", "GET", "/api/v1/namespaces/" + ns + "/gizmos", nil, 404, "NotFound", "", ""},
		{"unsupported method", "PUT", base, cmJSON(t, "v1", "ConfigMap", "x", nil), 405, "MethodNotAllowed", "", ""},
		{"namespace mismatch", "POST", base, mustJSON(t, map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "elsewhere", "namespace": "default"}}), 400, "BadRequest", "namespace", ""},
		{"unsupported patch type", "PATCH", base + "/existing", []byte(`{}`), 415, "UnsupportedMediaType", "", "text/plain"},
		{"malformed merge patch", "PATCH", base + "/existing", []byte(`{bad`), 400, "BadRequest", "", ""},
		{"bad json patch op", "PATCH", base + "/existing", []byte(`[{"op":"bogus","path":"/data"}]`), 400, "BadRequest", "", "application/json-patch+json"},
		{"patch renames", "PATCH", base + "/existing", []byte(`{"metadata":{"name":"renamed"}}`), 400, "BadRequest", "", ""},
		{"patch missing object", "PATCH", base + "/nothere", []byte(`{}`), 404, "NotFound", `configmaps "nothere" not found`, ""},
		{"delete uid precondition", "DELETE", base + "/existing", []byte(`{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"nope"}}`),
			409, "Conflict", "Precondition failed", ""},
		{"invalid resourceVersion", "GET", base + "/existing?resourceVersion=abc", nil, 400, "BadRequest", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := configMapNames(t, c, ns)
			existing := c.do(t, "GET", base+"/existing", nil).meta(t).ResourceVersion
			var resp response
			if tc.contentType != "" {
				resp = c.doAs(t, tc.method, tc.path, tc.contentType, tc.body)
			} else {
				resp = c.do(t, tc.method, tc.path, tc.body)
			}
			if resp.code != tc.code {
				t.Fatalf("HTTP %d, want %d: %s", resp.code, tc.code, truncate(resp.body))
			}
			st := resp.status(t)
			if string(st.Reason) != tc.reason || st.Code != int32(tc.code) || st.Status != "Failure" || !strings.Contains(st.Message, tc.msg) {
				t.Errorf("Status = %+v, want reason %s, code %d, message containing %q", st, tc.reason, tc.code, tc.msg)
			}
			if after := configMapNames(t, c, ns); !slices.Equal(before, after) {
				t.Errorf("configmaps changed: %v -> %v", before, after)
			}
			if rv := c.do(t, "GET", base+"/existing", nil).meta(t).ResourceVersion; rv != existing {
				t.Errorf("existing object changed: resourceVersion %s -> %s", existing, rv)
			}
		})
	}
	t.Run("invalid name details", func(t *testing.T) {
		st := c.do(t, "POST", base, cmJSON(t, "v1", "ConfigMap", "Bad_Name", nil)).status(t)
		if st.Details == nil || st.Details.Name != "Bad_Name" || st.Details.Kind != "ConfigMap" || len(st.Details.Causes) == 0 ||
			st.Details.Causes[0].Field != "metadata.name" || st.Details.Causes[0].Type != "FieldValueInvalid" {
			t.Errorf("details = %+v", st.Details)
		}
	})
	t.Run("no client certificate", func(t *testing.T) {
		resp := anonymousClient(t, srv).do(t, "POST", base, cmJSON(t, "v1", "ConfigMap", "anon", nil))
		if resp.code != 401 || resp.status(t).Reason != "Unauthorized" {
			t.Errorf("HTTP %d %s, want 401 Unauthorized", resp.code, truncate(resp.body))
		}
		if got := c.do(t, "GET", base+"/anon", nil).code; got != 404 {
			t.Errorf("anonymous create stored something: GET = %d", got)
		}
	})
	t.Run("warn unknown field", func(t *testing.T) {
		resp := c.do(t, "POST", base+"?fieldValidation=Warn", cmJSON(t, "v1", "ConfigMap", "warned", map[string]any{"bogus": 1}))
		if resp.code != 201 {
			t.Fatalf("HTTP %d %s, want 201", resp.code, truncate(resp.body))
		}
		if w := resp.header.Get("Warning"); !strings.HasPrefix(w, "299 ") || !strings.Contains(w, `unknown field \"bogus\"`) {
			t.Errorf("Warning header = %q", w)
		}
		if got := c.do(t, "GET", base+"/warned", nil).code; got != 200 {
			t.Errorf("warned object not stored: GET = %d", got)
		}
	})
	t.Run("dry run", func(t *testing.T) {
		resp := c.do(t, "POST", base+"?dryRun=All", cmJSON(t, "v1", "ConfigMap", "dry", nil))
		if resp.code != 201 || resp.meta(t).Name != "dry" {
			t.Fatalf("HTTP %d %s, want 201 with the object", resp.code, truncate(resp.body))
		}
		if got := c.do(t, "GET", base+"/dry", nil).code; got != 404 {
			t.Errorf("dry-run object stored: GET = %d", got)
		}
		if resp := c.do(t, "POST", base+"?dryRun=Bogus", cmJSON(t, "v1", "ConfigMap", "dry2", nil)); resp.code != 400 {
			t.Errorf("dryRun=Bogus: HTTP %d, want 400", resp.code)
		}
	})
}

func TestBadInput_Kubectl(t *testing.T) {
	requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "bad-kubectl")
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string // substring of stderr
	}{
		{"invalid name", "", []string{"create", "configmap", "Bad_Name"}, `metadata.name: Invalid value: "Bad_Name"`},
		{"duplicate", "", []string{"create", "namespace", ns}, `namespaces "` + ns + `" already exists`},
		{"strict unknown field", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: strict}\nbogus: 1\n",
			[]string{"create", "-f", "-", "--validate=strict"}, `unknown field "bogus"`},
		{"unknown resource type", "", []string{"get", "gizmos"}, `the server doesn't have a resource type "gizmos"`},
		{"missing namespace", "", []string{"create", "configmap", "x", "-n", "e2e-nowhere"}, `namespaces "e2e-nowhere" not found`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := kubectlRun{srv: shared, args: append([]string{"-n", ns}, tc.args...), stdin: tc.stdin}.run(t)
			if res.code == 0 || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q, want failure mentioning %q", res.code, res.stderr, tc.want)
			}
		})
	}
	if got := kubectl(t, "-n", ns, "get", "configmaps", "-o", "name"); got != "" {
		t.Errorf("failed creates stored objects: %q", got)
	}
	out := kubectl(t, "-n", ns, "create", "configmap", "dry", "--dry-run=server")
	if strings.TrimSpace(out) != "configmap/dry created (server dry run)" {
		t.Errorf("server dry run: %q", out)
	}
	if stderr := kubectlFail(t, "-n", ns, "get", "configmap", "dry"); !strings.Contains(stderr, "NotFound") {
		t.Errorf("dry-run object stored: %q", stderr)
	}
}
