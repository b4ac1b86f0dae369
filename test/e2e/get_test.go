package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// setupGetFixtures creates a deployment, a NodePort service and three
// labelled pods (which stay Pending: no node matches their selector). The deployment
// has no replicas, so that the controllers add no pods to the listings.
func setupGetFixtures(t *testing.T, ns string) {
	t.Helper()
	kubectl(t, "-n", ns, "create", "deployment", "web", "--image=nginx:1.25", "--replicas=0")
	kubectl(t, "-n", ns, "create", "service", "nodeport", "web", "--tcp=80:8080")
	for _, p := range []struct{ name, labels string }{
		{"p1", "app=a,env=prod"}, {"p2", "app=b,env=dev"}, {"p3", "app=a,env=dev"},
	} {
		kubectl(t, "-n", ns, "run", p.name, "--image=busybox", "--labels="+p.labels, pendingOverride)
	}
}

func TestGet_Tables(t *testing.T) {
	requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "get-tables")
	setupGetFixtures(t, ns)
	age := `\d+[smhd]\S*`
	tests := []struct {
		name   string
		args   []string
		header string // exact header, whitespace normalised
		rows   []string
	}{
		{"deployments", []string{"get", "deployments"}, "NAME READY UP-TO-DATE AVAILABLE AGE",
			[]string{`web 0/0 0 0 ` + age}},
		{"services", []string{"get", "services"}, "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE",
			[]string{`web NodePort 10\.\d+\.\d+\.\d+ <none> 80:3\d{4}/TCP ` + age}},
		{"pods", []string{"get", "pods"}, "NAME READY STATUS RESTARTS AGE",
			[]string{`p1 0/1 Pending 0 ` + age, `p2 0/1 Pending 0 ` + age, `p3 0/1 Pending 0 ` + age}},
		{"pods wide", []string{"get", "pods", "-o", "wide"}, "NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES",
			[]string{`p1 0/1 Pending 0 ` + age + ` <none> <none> <none> <none>`, `p2 .*`, `p3 .*`}},
		{"deployments wide", []string{"get", "deploy", "-o", "wide"}, "NAME READY UP-TO-DATE AVAILABLE AGE CONTAINERS IMAGES SELECTOR",
			[]string{`web 0/0 0 0 ` + age + ` nginx nginx:1.25 app=web`}},
		{"show labels", []string{"get", "pods", "--show-labels"}, "NAME READY STATUS RESTARTS AGE LABELS",
			[]string{`p1 .* app=a,env=prod`, `p2 .* app=b,env=dev`, `p3 .* app=a,env=dev`}},
		{"custom columns", []string{"get", "pods", "-o", "custom-columns=NAME:.metadata.name,APP:.metadata.labels.app,IMAGE:.spec.containers[0].image"},
			"NAME APP IMAGE", []string{`p1 a busybox`, `p2 b busybox`, `p3 a busybox`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lines := nonEmptyLines(kubectl(t, append([]string{"-n", ns}, tc.args...)...))
			if len(lines) == 0 || columns(lines[0]) != tc.header {
				t.Fatalf("header: got %q, want %q", lines, tc.header)
			}
			if len(lines)-1 != len(tc.rows) {
				t.Fatalf("got %d rows %q, want %d", len(lines)-1, lines[1:], len(tc.rows))
			}
			for i, re := range tc.rows {
				if got := columns(lines[i+1]); !regexp.MustCompile("^" + re + "$").MatchString(got) {
					t.Errorf("row %d: got %q, want match %q", i, got, re)
				}
			}
		})
	}
	// Other tests create pods too, so -A is checked for this namespace's rows.
	all := nonEmptyLines(kubectl(t, "get", "pods", "-A"))
	if columns(all[0]) != "NAMESPACE NAME READY STATUS RESTARTS AGE" {
		t.Errorf("-A header: got %q", all[0])
	}
	var mine []string
	for _, l := range all[1:] {
		if strings.HasPrefix(l, ns+" ") {
			mine = append(mine, strings.Fields(l)[1])
		}
	}
	if strings.Join(mine, " ") != "p1 p2 p3" {
		t.Errorf("-A rows of %s: got %q in %q", ns, mine, all)
	}
	// Columns are padded to align: the deployment header is exact.
	if got := nonEmptyLines(kubectl(t, "-n", ns, "get", "deploy"))[0]; got != "NAME   READY   UP-TO-DATE   AVAILABLE   AGE" {
		t.Errorf("deployment header: got %q", got)
	}
}

func TestGet_Formats(t *testing.T) {
	requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "get-formats")
	setupGetFixtures(t, ns)
	t.Run("name", func(t *testing.T) {
		if got := kubectl(t, "-n", ns, "get", "pods,deploy,svc", "-o", "name"); got != "pod/p1\npod/p2\npod/p3\ndeployment.apps/web\nservice/web\n" {
			t.Errorf("-o name: got %q", got)
		}
	})
	t.Run("yaml", func(t *testing.T) {
		out := kubectl(t, "-n", ns, "get", "pod", "p1", "-o", "yaml")
		for _, want := range []string{"apiVersion: v1\n", "kind: Pod\n", "  name: p1\n", "  namespace: " + ns + "\n",
			"    app: a\n", "  - image: busybox\n", "  phase: Pending\n", "  resourceVersion: \"", "  uid: "} {
			if !strings.Contains(out, want) {
				t.Errorf("-o yaml lacks %q:\n%s", want, out)
			}
		}
		if list := kubectl(t, "-n", ns, "get", "pods", "-o", "yaml"); !strings.HasPrefix(list, "apiVersion: v1\nitems:\n") || !strings.Contains(list, "kind: List\n") {
			t.Errorf("list -o yaml: got %q", truncate([]byte(list)))
		}
	})
	t.Run("json", func(t *testing.T) {
		var obj struct {
			APIVersion, Kind string
			Metadata         struct{ Name, Namespace, ResourceVersion string }
			Spec             struct{ Replicas int }
		}
		if err := json.Unmarshal([]byte(kubectl(t, "-n", ns, "get", "deploy", "web", "-o", "json")), &obj); err != nil {
			t.Fatalf("-o json: %v", err)
		}
		if obj.APIVersion != "apps/v1" || obj.Kind != "Deployment" || obj.Metadata.Name != "web" ||
			obj.Metadata.Namespace != ns || obj.Metadata.ResourceVersion == "" || obj.Spec.Replicas != 0 {
			t.Errorf("-o json: got %+v", obj)
		}
	})
	t.Run("jsonpath", func(t *testing.T) {
		got := kubectl(t, "-n", ns, "get", "pods", "-o", `jsonpath={range .items[*]}{.metadata.name}={.metadata.labels.env}{"\n"}{end}`)
		if got != "p1=prod\np2=dev\np3=dev\n" {
			t.Errorf("jsonpath: got %q", got)
		}
	})
	t.Run("selectors", testSelectors(ns))
}

func testSelectors(ns string) func(t *testing.T) {
	return func(t *testing.T) {
		tests := []struct {
			flag, value, want string
		}{
			{"-l", "app=a", "pod/p1 pod/p3"},
			{"-l", "app==a,env!=dev", "pod/p1"},
			{"-l", "env in (dev)", "pod/p2 pod/p3"},
			{"-l", "env notin (dev,test)", "pod/p1"},
			{"-l", "app,!missing", "pod/p1 pod/p2 pod/p3"},
			{"-l", "missing", ""},
			{"--field-selector", "metadata.name=p2", "pod/p2"},
			{"--field-selector", "metadata.name!=p2", "pod/p1 pod/p3"},
			{"--field-selector", "status.phase=Pending", "pod/p1 pod/p2 pod/p3"},
			{"--field-selector", "status.phase=Running", ""},
		}
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s %s", tc.flag, tc.value), func(t *testing.T) {
				got := strings.Fields(kubectl(t, "-n", ns, "get", "pods", "-o", "name", tc.flag, tc.value))
				if strings.Join(got, " ") != tc.want {
					t.Errorf("got %q, want %q", got, tc.want)
				}
			})
		}
	}
}

func TestGet_ChunkSize(t *testing.T) {
	srv := requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "get-chunks")
	for i := range 5 {
		kubectl(t, "-n", ns, "create", "configmap", fmt.Sprintf("cm-%d", i), fmt.Sprintf("--from-literal=i=%d", i))
	}
	res := mustRun(t, kubectlRun{srv: srv, args: []string{"-n", ns, "get", "configmaps", "--chunk-size=2", "-v=6"}})
	lines := nonEmptyLines(res.stdout)
	if len(lines) != 6 || columns(lines[0]) != "NAME DATA AGE" {
		t.Fatalf("want header + 5 rows, got %q", lines)
	}
	for i, l := range lines[1:] {
		if f := strings.Fields(l); f[0] != fmt.Sprintf("cm-%d", i) || f[1] != "1" {
			t.Errorf("row %d: got %q", i, l)
		}
	}
	// -v=6 logs each request: 5 items in pages of 2 take 3 requests, the
	// later ones carrying the continue token of the previous page.
	reqs := regexp.MustCompile(`GET \S+/configmaps\?\S*limit=2\S* 200`).FindAllString(res.stderr, -1)
	if len(reqs) != 3 || strings.Contains(reqs[0], "continue=") || !strings.Contains(reqs[1], "continue=") || !strings.Contains(reqs[2], "continue=") {
		t.Errorf("want 3 paged requests, got %q", reqs)
	}
}

// TestGet_PaginationSnapshot checks that continuing a list serves the
// snapshot of the first page: later writes are not visible.
func TestGet_PaginationSnapshot(t *testing.T) {
	srv := requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "get-snapshot")
	for i := range 5 {
		kubectl(t, "-n", ns, "create", "configmap", fmt.Sprintf("cm-%d", i))
	}
	c := newRawClient(t, srv)
	base := "/api/v1/namespaces/" + ns + "/configmaps"
	type page struct {
		Metadata struct {
			ResourceVersion    string
			Continue           string
			RemainingItemCount *int64
		}
		Items []struct{ Metadata struct{ Name string } }
	}
	get := func(query string) page {
		resp := c.do(t, "GET", base+query, nil)
		if resp.code != 200 {
			t.Fatalf("GET %s: HTTP %d %s", query, resp.code, truncate(resp.body))
		}
		var p page
		if err := json.Unmarshal(resp.body, &p); err != nil {
			t.Fatalf("decode: %v", err)
		}
		return p
	}
	names := func(p page) string {
		var out []string
		for _, it := range p.Items {
			out = append(out, it.Metadata.Name)
		}
		return strings.Join(out, " ")
	}
	first := get("?limit=2")
	if names(first) != "cm-0 cm-1" || first.Metadata.Continue == "" || first.Metadata.RemainingItemCount == nil || *first.Metadata.RemainingItemCount != 3 {
		t.Fatalf("first page: items %q, continue %q, remaining %v", names(first), first.Metadata.Continue, first.Metadata.RemainingItemCount)
	}
	kubectl(t, "-n", ns, "create", "configmap", "cm-9")
	kubectl(t, "-n", ns, "delete", "configmap", "cm-4")
	rest := get("?limit=10&continue=" + first.Metadata.Continue)
	if names(rest) != "cm-2 cm-3 cm-4" || rest.Metadata.Continue != "" || rest.Metadata.ResourceVersion != first.Metadata.ResourceVersion {
		t.Errorf("continued page: items %q (want the old snapshot cm-2 cm-3 cm-4), continue %q, rv %s (first %s)",
			names(rest), rest.Metadata.Continue, rest.Metadata.ResourceVersion, first.Metadata.ResourceVersion)
	}
	if now := names(get("")); now != "cm-0 cm-1 cm-2 cm-3 cm-9" {
		t.Errorf("fresh list: %q", now)
	}
	if resp := c.do(t, "GET", base+"?limit=2&continue=bogus", nil); resp.code != 400 {
		t.Errorf("bogus continue token: HTTP %d, want 400", resp.code)
	}
}
