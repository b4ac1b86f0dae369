package e2e

import (
	"strings"
	"testing"
)

// appManifest is a small application: Deployment, NodePort Service,
// ConfigMap and Secret. Secret uses data rather than stringData, since
// stringData is never stored and would make every apply "configured".
const appManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  greeting: hello
---
apiVersion: v1
kind: Secret
metadata:
  name: sec
data:
  password: aHVudGVyMg==
`

func TestApply(t *testing.T) {
	requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "apply")
	get := func(t *testing.T, obj, path string) string {
		t.Helper()
		return kubectl(t, "-n", ns, "get", obj, "-o", "jsonpath="+path)
	}
	steps := []struct {
		name     string
		args     []string
		manifest string
		want     []string
		gen      string // deployment generation afterwards
	}{
		{"create", []string{"create", "-f", "-"}, appManifest,
			[]string{"deployment.apps/web created", "service/web created", "configmap/cfg created", "secret/sec created"}, "1"},
		// The first apply only adds the last-applied annotation. A
		// Deployment's generation counts annotation changes too (upstream
		// does so because they are copied to the ReplicaSet), so every
		// apply that rewrites the annotation bumps it.
		{"first apply", []string{"apply", "-f", "-"}, appManifest,
			[]string{"deployment.apps/web configured", "service/web configured", "configmap/cfg configured", "secret/sec configured"}, "2"},
		{"second apply", []string{"apply", "-f", "-"}, appManifest,
			[]string{"deployment.apps/web unchanged", "service/web unchanged", "configmap/cfg unchanged", "secret/sec unchanged"}, "2"},
		{"spec change", []string{"apply", "-f", "-"}, strings.Replace(appManifest, "nginx:1.25", "nginx:1.26", 1),
			[]string{"deployment.apps/web configured", "service/web unchanged", "configmap/cfg unchanged", "secret/sec unchanged"}, "3"},
		{"label change", []string{"apply", "-f", "-"},
			strings.Replace(strings.Replace(appManifest, "nginx:1.25", "nginx:1.26", 1), "tier: front", "tier: back", 1),
			[]string{"deployment.apps/web configured", "service/web unchanged", "configmap/cfg unchanged", "secret/sec unchanged"}, "4"},
		{"data change", []string{"apply", "-f", "-"},
			strings.Replace(strings.Replace(strings.Replace(appManifest, "nginx:1.25", "nginx:1.26", 1), "tier: front", "tier: back", 1), "greeting: hello", "greeting: bye", 1),
			[]string{"deployment.apps/web unchanged", "service/web unchanged", "configmap/cfg configured", "secret/sec unchanged"}, "4"},
		// Labels alone are neither spec nor annotations.
		{"label only", []string{"label", "deployment", "web", "extra=1"}, "",
			[]string{"deployment.apps/web labeled"}, "4"},
		{"scale", []string{"scale", "deployment", "web", "--replicas=2"}, "",
			[]string{"deployment.apps/web scaled"}, "5"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			out := kubectlIn(t, st.manifest, append([]string{"-n", ns}, st.args...)...)
			if got := nonEmptyLines(out); strings.Join(got, "\n") != strings.Join(st.want, "\n") {
				t.Errorf("output:\n%s\nwant:\n%s", out, strings.Join(st.want, "\n"))
			}
			if got := get(t, "deployment/web", "{.metadata.generation}"); got != st.gen {
				t.Errorf("deployment generation = %s, want %s", got, st.gen)
			}
		})
	}
	checks := []struct{ obj, path, want string }{
		{"deployment/web", "{.spec.template.spec.containers[0].image}", "nginx:1.26"},
		{"deployment/web", "{.metadata.labels.tier}", "back"},
		{"deployment/web", "{.spec.replicas}", "2"},
		{"deployment/web", "{.spec.strategy.type}", "RollingUpdate"}, // defaulted
		{"service/web", "{.spec.type}", "NodePort"},
		{"service/web", "{.spec.ports[0].targetPort}", "8080"},
		{"service/web", "{.spec.ports[0].protocol}", "TCP"},
		{"configmap/cfg", "{.data.greeting}", "bye"},
		{"secret/sec", "{.data.password}", "aHVudGVyMg=="},
		{"secret/sec", "{.type}", "Opaque"},
	}
	for _, c := range checks {
		if got := get(t, c.obj, c.path); got != c.want {
			t.Errorf("%s %s = %q, want %q", c.obj, c.path, got, c.want)
		}
	}
	// Other kinds count spec changes only.
	kubectlIn(t, scalables, "-n", ns, "apply", "-f", "-")
	kubectl(t, "-n", ns, "annotate", "replicaset", "rs1", "note=x")
	kubectl(t, "-n", ns, "label", "replicaset", "rs1", "extra=1")
	if got := get(t, "replicaset/rs1", "{.metadata.generation}"); got != "1" {
		t.Errorf("replicaset generation after metadata changes = %s, want 1", got)
	}
	kubectl(t, "-n", ns, "scale", "replicaset", "rs1", "--replicas=2")
	if got := get(t, "replicaset/rs1", "{.metadata.generation}"); got != "2" {
		t.Errorf("replicaset generation after scale = %s, want 2", got)
	}
	if got := get(t, "service/web", "{.spec.ports[0].nodePort}"); len(got) != 5 || got < "30000" || got > "32767" {
		t.Errorf("nodePort = %q, want one in 30000-32767", got)
	}
}

// TestGenerationOnCreate checks which kinds track metadata.generation:
// upstream sets it only where a controller reports observedGeneration.
func TestGenerationOnCreate(t *testing.T) {
	requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "generation")
	kubectlIn(t, appManifest, "-n", ns, "create", "-f", "-")
	kubectlIn(t, scalables, "-n", ns, "create", "-f", "-")
	kubectl(t, "-n", ns, "create", "job", "j", "--image=busybox")
	kubectl(t, "-n", ns, "create", "cronjob", "cj", "--image=busybox", "--schedule=*/5 * * * *")
	kubectl(t, "-n", ns, "create", "poddisruptionbudget", "pdb", "--selector=app=web", "--min-available=1")
	tests := []struct {
		obj, want string
		bug       string // a reported server bug
	}{
		{"deployment/web", "1", ""},
		{"replicaset/rs1", "1", ""},
		{"statefulset/sts1", "1", ""},
		{"replicationcontroller/rc1", "1", ""},
		{"job/j", "1", ""},
		{"cronjob/cj", "1", ""},
		{"poddisruptionbudget/pdb", "1", ""},
		{"configmap/cfg", "", ""},
		{"secret/sec", "", ""},
		{"service/web", "", ""},
		{"namespace/" + ns, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.obj, func(t *testing.T) {
			got := kubectl(t, "-n", ns, "get", tc.obj, "-o", "jsonpath={.metadata.generation}")
			if got == tc.want {
				return
			}
			if tc.bug != "" {
				knownBug(t, tc.bug, "generation = %q, want %q", got, tc.want)
			}
			t.Errorf("generation = %q, want %q", got, tc.want)
		})
	}
}

// TestCreateList: a `kind: List` manifest is not a served kind, so kubectl
// validates it client-side against the protobuf OpenAPI v2 document, whose
// Content-Type it must be able to parse.
func TestCreateList(t *testing.T) {
	requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "list")
	list := `{"apiVersion":"v1","kind":"List","items":[
 {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"l1"},"data":{"a":"1"}},
 {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"l2"},"data":{"b":"2"}}]}`
	out := kubectlIn(t, list, "-n", ns, "create", "-f", "-")
	for _, want := range []string{"configmap/l1 created", "configmap/l2 created"} {
		if !strings.Contains(out, want) {
			t.Errorf("create -f List printed %q, want a line %q", out, want)
		}
	}
	bad := `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"l3"},"bogus":1}]}`
	res := kubectlRun{srv: requireServer(t), args: []string{"-n", ns, "create", "-f", "-"}, stdin: bad}.run(t)
	if res.code == 0 || !strings.Contains(res.stderr, "bogus") {
		t.Errorf("create -f List with an unknown field: exit %d, stderr %q; want a failure naming the field", res.code, res.stderr)
	}
	if got := kubectl(t, "-n", ns, "get", "configmaps", "-o", "name"); strings.Contains(got, "l3") {
		t.Errorf("the invalid item was stored: %q", got)
	}
}
