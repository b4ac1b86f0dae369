package e2e

import (
	"strings"
	"testing"
)

// pendingOverride keeps a `kubectl run` pod Pending now that the shared
// server has a working node: no node carries this label.
const pendingOverride = `--overrides={"apiVersion":"v1","spec":{"nodeSelector":{"e2e.navarch.io/no-such-node":"true"}}}`

// TestDeleteNamespace: `kubectl delete ns` removes a namespace with
// content in it once the controllers have emptied it, refusing creates in
// the meantime with upstream's message.
func TestDeleteNamespace(t *testing.T) {
	srv := requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "nsdel")
	kubectl(t, "-n", ns, "create", "configmap", "plain", "--from-literal=k=v")
	kubectl(t, "-n", ns, "create", "secret", "generic", "creds", "--from-literal=p=q")
	kubectl(t, "-n", ns, "create", "service", "clusterip", "web", "--tcp=80:8080")
	kubectl(t, "-n", ns, "create", "deployment", "idle", "--image=busybox", "--replicas=0")
	// held keeps the namespace Terminating until the test lets it go.
	kubectlIn(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers: [example.com/hold]\n", "-n", ns, "apply", "-f", "-")

	if got := kubectl(t, "delete", "namespace", ns, "--wait=false"); strings.TrimSpace(got) != `namespace "`+ns+`" deleted` {
		t.Fatalf("delete namespace: %q", got)
	}
	waitFor(t, "the namespace to be emptied down to the held object", func() bool {
		return kubectl(t, "-n", ns, "get", "configmaps,secrets,services,deployments,replicasets", "-o", "name") == "configmap/held\n"
	})
	if phase := kubectl(t, "get", "namespace", ns, "-o", "jsonpath={.status.phase}"); phase != "Terminating" {
		t.Errorf("phase %q, want Terminating", phase)
	}
	conds := kubectl(t, "get", "namespace", ns, "-o",
		`jsonpath={range .status.conditions[?(@.status=="True")]}{.type}: {.message}{"\n"}{end}`)
	if !strings.Contains(conds, "NamespaceFinalizersRemaining: Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances") {
		t.Errorf("conditions:\n%s", conds)
	}
	stderr := kubectlFail(t, "-n", ns, "create", "configmap", "late")
	// kubectl create wraps the server's Forbidden this way.
	if want := `error: failed to create configmap: configmaps "late" is forbidden: unable to create new content in namespace ` + ns + ` because it is being terminated`; strings.TrimSpace(stderr) != want {
		t.Errorf("create in a terminating namespace:\n got %q\nwant %q", strings.TrimSpace(stderr), want)
	}

	kubectl(t, "-n", ns, "patch", "configmap", "held", "--type=merge", "-p", `{"metadata":{"finalizers":null}}`)
	kubectl(t, "wait", "--for=delete", "namespace/"+ns, "--timeout=60s")
	res := kubectlRun{srv: srv, args: []string{"get", "namespace", ns}}.run(t)
	if res.code == 0 || !strings.Contains(res.stderr, `namespaces "`+ns+`" not found`) {
		t.Errorf("namespace still there: exit %d, %s %s", res.code, res.stdout, res.stderr)
	}
}

// TestDeleteCascade drives `kubectl delete --cascade=orphan|foreground|background`
// on Deployments and checks what happens to their ReplicaSets.
func TestDeleteCascade(t *testing.T) {
	requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "cascade")
	rsOf := func(app string) string {
		return kubectl(t, "-n", ns, "get", "replicasets", "-l", "app="+app, "-o", "jsonpath={.items[*].metadata.name}")
	}
	for _, app := range []string{"orphan", "fg", "bg"} {
		kubectl(t, "-n", ns, "create", "deployment", app, "--image=busybox", "--replicas=0")
		waitFor(t, "the replicaset of "+app, func() bool { return rsOf(app) != "" })
	}

	t.Run("orphan", func(t *testing.T) {
		rs := rsOf("orphan")
		kubectl(t, "-n", ns, "delete", "deployment", "orphan", "--cascade=orphan")
		if got := rsOf("orphan"); got != rs {
			t.Fatalf("replicaset after an orphaning delete: %q, want %q", got, rs)
		}
		if owners := kubectl(t, "-n", ns, "get", "replicaset", rs, "-o", "jsonpath={.metadata.ownerReferences}"); owners != "" {
			t.Errorf("orphaned replicaset still owned: %s", owners)
		}
	})

	t.Run("foreground", func(t *testing.T) {
		rs := rsOf("fg")
		// A finalizer on the replicaset shows the deployment waiting for it.
		kubectl(t, "-n", ns, "patch", "replicaset", rs, "--type=merge", "-p", `{"metadata":{"finalizers":["example.com/hold"]}}`)
		kubectl(t, "-n", ns, "delete", "deployment", "fg", "--cascade=foreground", "--wait=false")
		waitFor(t, "the replicaset to be deleting", func() bool {
			return kubectl(t, "-n", ns, "get", "replicaset", rs, "-o", "jsonpath={.metadata.deletionTimestamp}") != ""
		})
		if fins := kubectl(t, "-n", ns, "get", "deployment", "fg", "-o", "jsonpath={.metadata.finalizers}"); !strings.Contains(fins, "foregroundDeletion") {
			t.Errorf("deployment finalizers %q while its replicaset remains", fins)
		}
		kubectl(t, "-n", ns, "patch", "replicaset", rs, "--type=merge", "-p", `{"metadata":{"finalizers":null}}`)
		kubectl(t, "-n", ns, "wait", "--for=delete", "deployment/fg", "--timeout=60s")
		if got := rsOf("fg"); got != "" {
			t.Errorf("replicaset %q left after a foreground delete", got)
		}
	})

	t.Run("background", func(t *testing.T) {
		kubectl(t, "-n", ns, "delete", "deployment", "bg")
		waitFor(t, "the replicaset to be collected", func() bool { return rsOf("bg") == "" })
	})
}
