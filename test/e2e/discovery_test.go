package e2e

import (
	"regexp"
	"strings"
	"testing"
)

// apiResourceRows indexes `kubectl api-resources` rows by NAME+APIVERSION.
func apiResourceRows(t *testing.T, out string) map[string]string {
	t.Helper()
	lines := nonEmptyLines(out)
	if len(lines) == 0 || columns(lines[0]) != "NAME SHORTNAMES APIVERSION NAMESPACED KIND" {
		t.Fatalf("api-resources header: got %q", out)
	}
	rows := map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		// SHORTNAMES may be empty, so APIVERSION is the third-last cell.
		rows[f[0]+" "+f[len(f)-3]] = columns(l)
	}
	return rows
}

func TestDiscovery_APIResources(t *testing.T) {
	requireServer(t)
	t.Parallel()
	rows := apiResourceRows(t, kubectl(t, "api-resources"))
	tests := []struct{ name, apiVersion, want string }{
		{"pods", "v1", "pods po v1 true Pod"},
		{"services", "v1", "services svc v1 true Service"},
		{"namespaces", "v1", "namespaces ns v1 false Namespace"},
		{"configmaps", "v1", "configmaps cm v1 true ConfigMap"},
		{"secrets", "v1", "secrets v1 true Secret"},
		{"deployments", "apps/v1", "deployments deploy apps/v1 true Deployment"},
		{"statefulsets", "apps/v1", "statefulsets sts apps/v1 true StatefulSet"},
		{"jobs", "batch/v1", "jobs batch/v1 true Job"},
		{"cronjobs", "batch/v1", "cronjobs cj batch/v1 true CronJob"},
		{"events", "v1", "events ev v1 true Event"},
		{"events", "events.k8s.io/v1", "events ev events.k8s.io/v1 true Event"},
		{"leases", "coordination.k8s.io/v1", "leases coordination.k8s.io/v1 true Lease"},
		{"horizontalpodautoscalers", "autoscaling/v2", "horizontalpodautoscalers hpa autoscaling/v2 true HorizontalPodAutoscaler"},
		{"poddisruptionbudgets", "policy/v1", "poddisruptionbudgets pdb policy/v1 true PodDisruptionBudget"},
		{"endpointslices", "discovery.k8s.io/v1", "endpointslices discovery.k8s.io/v1 true EndpointSlice"},
		{"priorityclasses", "scheduling.k8s.io/v1", "priorityclasses pc scheduling.k8s.io/v1 false PriorityClass"},
		{"storageclasses", "storage.k8s.io/v1", "storageclasses sc storage.k8s.io/v1 false StorageClass"},
	}
	for _, tc := range tests {
		t.Run(tc.name+"@"+tc.apiVersion, func(t *testing.T) {
			if got := rows[tc.name+" "+tc.apiVersion]; got != tc.want {
				t.Errorf("api-resources row: got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDiscovery_APIVersions(t *testing.T) {
	requireServer(t)
	t.Parallel()
	got := map[string]bool{}
	for _, l := range nonEmptyLines(kubectl(t, "api-versions")) {
		got[strings.TrimSpace(l)] = true
	}
	for _, v := range []string{"v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2", "policy/v1",
		"coordination.k8s.io/v1", "events.k8s.io/v1", "discovery.k8s.io/v1", "scheduling.k8s.io/v1", "storage.k8s.io/v1"} {
		if !got[v] {
			t.Errorf("api-versions lacks %s; got %v", v, got)
		}
	}
}

func TestDiscovery_VersionAndClusterInfo(t *testing.T) {
	srv := requireServer(t)
	t.Parallel()
	out := kubectl(t, "version")
	if !regexp.MustCompile(`(?m)^Server Version: v1\.\d+\.\d+\S*$`).MatchString(out) {
		t.Errorf("kubectl version: no Server Version line in %q", out)
	}
	out = kubectl(t, "cluster-info")
	want := "Kubernetes control plane is running at " + srv.url()
	if !strings.Contains(out, want) {
		t.Errorf("cluster-info: want %q in %q", want, out)
	}
}

func TestDiscovery_RawEndpoints(t *testing.T) {
	requireServer(t)
	t.Parallel()
	tests := []struct {
		path string
		want *regexp.Regexp
	}{
		{"/healthz", regexp.MustCompile(`^ok$`)},
		{"/livez", regexp.MustCompile(`^ok$`)},
		{"/readyz", regexp.MustCompile(`^ok$`)},
		{"/version", regexp.MustCompile(`"gitVersion": "v1\.\d+\.\d+`)},
		{"/metrics", regexp.MustCompile(`(?m)^apiserver_request_total\{.*\} \d+`)},
		{"/api", regexp.MustCompile(`"versions":\["v1"\]`)},
		{"/apis/apps/v1", regexp.MustCompile(`"name":"deployments/scale"`)},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			got := kubectl(t, "get", "--raw", tc.path)
			if !tc.want.MatchString(strings.TrimSpace(got)) {
				t.Errorf("get --raw %s: want match %q, got %q", tc.path, tc.want, truncate([]byte(got)))
			}
		})
	}
}
