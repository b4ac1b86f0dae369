package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// describeHas checks `kubectl describe` output for lines, comparing with
// whitespace normalised since describe aligns its values.
func describeHas(t *testing.T, out string, want ...string) {
	t.Helper()
	got := map[string]bool{}
	for _, l := range nonEmptyLines(out) {
		got[columns(l)] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("describe lacks line %q in:\n%s", w, out)
		}
	}
}

func TestDescribe(t *testing.T) {
	requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "describe")
	kubectlIn(t, appManifest, "-n", ns, "apply", "-f", "-")
	kubectl(t, "-n", ns, "run", "lonely", "--image=busybox", "--labels=app=lonely", pendingOverride)

	// The controllers create the pod, which stays Pending without nodes.
	waitFor(t, "the deployment's status", func() bool {
		return kubectl(t, "-n", ns, "get", "deployment", "web", "-o", "jsonpath={.status.replicas}/{.status.updatedReplicas}") == "1/1"
	})
	describeHas(t, kubectl(t, "-n", ns, "describe", "deployment", "web"),
		"Name: web", "Namespace: "+ns, "Selector: app=web",
		"Replicas: 1 desired | 1 updated | 1 total | 0 available | 1 unavailable",
		"StrategyType: RollingUpdate", "RollingUpdateStrategy: 25% max unavailable, 25% max surge",
		"Image: nginx:1.25", "Port: 8080/TCP")
	svc := kubectl(t, "-n", ns, "describe", "service", "web")
	describeHas(t, svc, "Name: web", "Type: NodePort", "Selector: app=web", "Port: <unset> 80/TCP", "TargetPort: 8080/TCP",
		"Session Affinity: None", "External Traffic Policy: Cluster")
	if !regexp.MustCompile(`(?m)^NodePort:\s+<unset>\s+3\d{4}/TCP$`).MatchString(svc) ||
		!regexp.MustCompile(`(?m)^IP:\s+10\.\d+\.\d+\.\d+$`).MatchString(svc) {
		t.Errorf("service describe lacks IP or NodePort:\n%s", svc)
	}
	describeHas(t, kubectl(t, "-n", ns, "describe", "pod", "lonely"),
		"Name: lonely", "Namespace: "+ns, "Node: <none>", "Labels: app=lonely", "Status: Pending",
		"Image: busybox", "QoS Class: BestEffort", "Service Account: default")
}

func TestEditPatchLabel(t *testing.T) {
	srv := requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "edit")
	kubectlIn(t, appManifest, "-n", ns, "apply", "-f", "-")
	jp := func(obj, path string) string { return kubectl(t, "-n", ns, "get", obj, "-o", "jsonpath="+path) }

	out := mustSucceed(t, kubectlRun{srv: srv, args: []string{"-n", ns, "edit", "deployment", "web"},
		env: []string{`EDITOR=sed -i s/replicas:\ 1/replicas:\ 3/`}})
	if strings.TrimSpace(out) != "deployment.apps/web edited" || jp("deploy/web", "{.spec.replicas}") != "3" {
		t.Errorf("edit: got %q, replicas %s", out, jp("deploy/web", "{.spec.replicas}"))
	}

	steps := []struct {
		name, typ, patch, path, want string
	}{
		// Strategic merge merges containers by name: ports survive.
		{"strategic", "strategic", `{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:2"}]}}}}`,
			"{.spec.template.spec.containers[*].image} {.spec.template.spec.containers[0].ports[0].containerPort}", "nginx:2 8080"},
		// A merge patch replaces the list wholesale: ports are gone.
		{"merge", "merge", `{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:3"}]}}}}`,
			"{.spec.template.spec.containers[*].image} {.spec.template.spec.containers[0].ports}", "nginx:3 "},
		{"json", "json", `[{"op":"replace","path":"/spec/replicas","value":5},{"op":"add","path":"/metadata/labels/extra","value":"yes"}]`,
			"{.spec.replicas} {.metadata.labels.extra}", "5 yes"},
	}
	for _, st := range steps {
		t.Run("patch "+st.name, func(t *testing.T) {
			out := kubectl(t, "-n", ns, "patch", "deployment", "web", "--type="+st.typ, "-p", st.patch)
			if strings.TrimSpace(out) != "deployment.apps/web patched" {
				t.Errorf("patch output: %q", out)
			}
			if got := jp("deploy/web", st.path); got != st.want {
				t.Errorf("after patch: got %q, want %q", got, st.want)
			}
		})
	}
	t.Run("bad json patch", func(t *testing.T) {
		rv := jp("deploy/web", "{.metadata.resourceVersion}")
		stderr := kubectlFail(t, "-n", ns, "patch", "deployment", "web", "--type=json", "-p", `[{"op":"test","path":"/spec/replicas","value":99}]`)
		if !strings.Contains(stderr, "Error from server") || jp("deploy/web", "{.metadata.resourceVersion}") != rv {
			t.Errorf("failed test op: stderr %q, object changed: %v", stderr, jp("deploy/web", "{.metadata.resourceVersion}") != rv)
		}
	})

	t.Run("label and annotate", func(t *testing.T) {
		kubectl(t, "-n", ns, "run", "lp", "--image=busybox", "--labels=app=lp")
		if out := kubectl(t, "-n", ns, "label", "pod", "lp", "team=blue"); strings.TrimSpace(out) != "pod/lp labeled" {
			t.Errorf("label: %q", out)
		}
		if stderr := kubectlFail(t, "-n", ns, "label", "pod", "lp", "team=red"); !strings.Contains(stderr, "'team' already has a value (blue), and --overwrite is false") {
			t.Errorf("label without --overwrite: %q", stderr)
		}
		kubectl(t, "-n", ns, "label", "pod", "lp", "team=red", "--overwrite")
		if got := jp("pod/lp", "{.metadata.labels.team}"); got != "red" {
			t.Errorf("overwritten label: %q", got)
		}
		if out := kubectl(t, "-n", ns, "label", "pod", "lp", "team-"); strings.TrimSpace(out) != "pod/lp unlabeled" {
			t.Errorf("remove label: %q", out)
		}
		if out := kubectl(t, "-n", ns, "annotate", "pod", "lp", "note=hello world"); strings.TrimSpace(out) != "pod/lp annotated" {
			t.Errorf("annotate: %q", out)
		}
		if got := jp("pod/lp", "{.metadata.labels} {.metadata.annotations.note}"); got != `{"app":"lp"} hello world` {
			t.Errorf("labels and annotation: %q", got)
		}
	})
}

const scalables = `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs1}
spec:
  replicas: 1
  selector: {matchLabels: {app: rs1}}
  template:
    metadata: {labels: {app: rs1}}
    spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: sts1}
spec:
  replicas: 1
  serviceName: sts1
  selector: {matchLabels: {app: sts1}}
  template:
    metadata: {labels: {app: sts1}}
    spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rc1}
spec:
  replicas: 1
  selector: {app: rc1}
  template:
    metadata: {labels: {app: rc1}}
    spec: {containers: [{name: c, image: busybox}]}
`

func TestScale(t *testing.T) {
	requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "scale")
	kubectlIn(t, scalables, "-n", ns, "apply", "-f", "-")
	kubectl(t, "-n", ns, "create", "deployment", "d1", "--image=busybox")
	tests := []struct{ obj, printed string }{
		{"deployment/d1", "deployment.apps/d1 scaled"},
		{"replicaset/rs1", "replicaset.apps/rs1 scaled"},
		{"statefulset/sts1", "statefulset.apps/sts1 scaled"},
		{"replicationcontroller/rc1", "replicationcontroller/rc1 scaled"},
	}
	for _, tc := range tests {
		t.Run(tc.obj, func(t *testing.T) {
			if out := kubectl(t, "-n", ns, "scale", tc.obj, "--replicas=4"); strings.TrimSpace(out) != tc.printed {
				t.Errorf("scale: %q", out)
			}
			if got := kubectl(t, "-n", ns, "get", tc.obj, "-o", "jsonpath={.spec.replicas}"); got != "4" {
				t.Errorf("replicas = %q, want 4", got)
			}
			// kubectl checks --current-replicas against the /scale it read.
			stderr := kubectlFail(t, "-n", ns, "scale", tc.obj, "--current-replicas=2", "--replicas=1")
			if !strings.Contains(stderr, "Expected replicas to be 2, was 4") {
				t.Errorf("failed precondition: %q", stderr)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	srv := requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "delete")
	for _, n := range []string{"a", "b", "c", "keep"} {
		kubectl(t, "-n", ns, "create", "configmap", n)
	}
	kubectl(t, "-n", ns, "label", "configmap", "b", "c", "doomed=yes")
	file := filepath.Join(t.TempDir(), "cm.yaml")
	if err := os.WriteFile(file, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fromfile}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kubectl(t, "-n", ns, "create", "-f", file)

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"by name", []string{"delete", "configmap", "a"}, `configmap "a" deleted`},
		{"by label", []string{"delete", "configmap", "-l", "doomed=yes"}, "configmap \"b\" deleted\nconfigmap \"c\" deleted"},
		{"by file", []string{"delete", "-f", file}, `configmap "fromfile" deleted`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if out := kubectl(t, append([]string{"-n", ns}, tc.args...)...); strings.TrimSpace(out) != tc.want {
				t.Errorf("got %q, want %q", out, tc.want)
			}
		})
	}
	if got := kubectl(t, "-n", ns, "get", "configmaps", "-o", "name"); got != "configmap/keep\n" {
		t.Errorf("left after deletes: %q", got)
	}
	if stderr := kubectlFail(t, "-n", ns, "get", "configmap", "a"); strings.TrimSpace(stderr) != `Error from server (NotFound): configmaps "a" not found` {
		t.Errorf("get deleted: %q", stderr)
	}
	if stderr := kubectlFail(t, "-n", ns, "delete", "configmap", "a"); strings.TrimSpace(stderr) != `Error from server (NotFound): configmaps "a" not found` {
		t.Errorf("delete missing: %q", stderr)
	}

	t.Run("wait for delete", func(t *testing.T) {
		// A finalizer keeps the object alive until the waiter is watching.
		kubectlIn(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, finalizers: [e2e.navarch.io/hold]}\n", "-n", ns, "create", "-f", "-")
		kubectl(t, "-n", ns, "delete", "configmap", "held", "--wait=false")
		if ts := kubectl(t, "-n", ns, "get", "configmap", "held", "-o", "jsonpath={.metadata.deletionTimestamp}"); ts == "" {
			t.Fatalf("finalized object has no deletionTimestamp")
		}
		w := startStreaming(t, kubectlRun{srv: srv, args: []string{"-n", ns, "wait", "--for=delete", "configmap/held", "--timeout=60s", "-v=6"},
			mergeStderr: true}, 90*time.Second)
		w.expect(t, "the waiter's watch request", func(l string) bool { return strings.Contains(l, "watch=true") })
		kubectl(t, "-n", ns, "patch", "configmap", "held", "--type=json", "-p", `[{"op":"remove","path":"/metadata/finalizers"}]`)
		w.expect(t, "condition met", func(l string) bool { return l == "configmap/held condition met" })
		if err := w.wait(t); err != nil {
			t.Errorf("kubectl wait: %v", err)
		}
	})
}

func TestExplainAndDiff(t *testing.T) {
	srv := requireServer(t)
	t.Parallel()
	out := kubectl(t, "explain", "deployment.spec.strategy")
	for _, want := range []string{"KIND:       Deployment", "VERSION:    v1", "FIELD: strategy <DeploymentStrategy>",
		"The deployment strategy to use to replace existing pods with new ones.", "rollingUpdate\t<RollingUpdateDeployment>", "type\t<string>"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}

	ns := newNamespace(t, "diff")
	kubectlIn(t, scalables, "-n", ns, "apply", "-f", "-")
	same := kubectlRun{srv: srv, args: []string{"-n", ns, "diff", "-f", "-"}, stdin: scalables}.run(t)
	if same.code != 0 || same.stdout != "" {
		t.Errorf("diff of applied manifest: exit %d, stdout %q, stderr %q", same.code, same.stdout, same.stderr)
	}
	changed := strings.Replace(scalables, "spec:\n  replicas: 1\n  serviceName", "spec:\n  replicas: 6\n  serviceName", 1)
	diff := kubectlRun{srv: srv, args: []string{"-n", ns, "diff", "-f", "-"}, stdin: changed}.run(t)
	if diff.code != 1 || !strings.Contains(diff.stdout, "-  replicas: 1\n") || !strings.Contains(diff.stdout, "+  replicas: 6\n") {
		t.Errorf("diff of changed manifest: exit %d, stdout %q, stderr %q", diff.code, diff.stdout, diff.stderr)
	}
	// diff runs a server-side dry run: nothing may change.
	if got := kubectl(t, "-n", ns, "get", "sts", "sts1", "-o", "jsonpath={.spec.replicas}"); got != "1" {
		t.Errorf("diff changed the live object: replicas %q", got)
	}
}
