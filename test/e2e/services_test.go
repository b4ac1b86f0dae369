package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// svcAlloc is what allocation gave a Service.
type svcAlloc struct {
	name, clusterIP string
	nodePort        int
}

func serviceBody(t *testing.T, name, clusterIP string, nodePort int) []byte {
	t.Helper()
	port := map[string]any{"port": 80, "protocol": "TCP"}
	if nodePort != 0 {
		port["nodePort"] = nodePort
	}
	spec := map[string]any{"type": "NodePort", "selector": map[string]string{"app": name}, "ports": []any{port}}
	if clusterIP != "" {
		spec["clusterIP"] = clusterIP
	}
	return mustJSON(t, map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": name}, "spec": spec})
}

func decodeService(t *testing.T, body []byte) svcAlloc {
	t.Helper()
	var svc struct {
		Metadata struct{ Name string }
		Spec     struct {
			ClusterIP string
			Ports     []struct{ NodePort int }
		}
	}
	if err := json.Unmarshal(body, &svc); err != nil || len(svc.Spec.Ports) == 0 {
		t.Fatalf("decode service (%v): %s", err, truncate(body))
	}
	return svcAlloc{name: svc.Metadata.Name, clusterIP: svc.Spec.ClusterIP, nodePort: svc.Spec.Ports[0].NodePort}
}

func TestServices_ConcurrentAllocation(t *testing.T) {
	srv := requireServer(t)
	t.Parallel()
	ns := newNamespace(t, "svc-alloc")
	c := newRawClient(t, srv)
	base := "/api/v1/namespaces/" + ns + "/services"

	const n = 20
	bodies := make([][]byte, n)
	errs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// t.Fatal must not run off the test goroutine: only record.
			resp := c.doNoFatal(http.MethodPost, base, serviceBody(t, fmt.Sprintf("s-%02d", i), "", 0))
			if resp.err != nil || resp.code != http.StatusCreated {
				errs[i] = fmt.Sprintf("HTTP %d %v %s", resp.code, resp.err, truncate(resp.body))
				return
			}
			bodies[i] = resp.body
		})
	}
	wg.Wait()
	allocs := make([]svcAlloc, n)
	for i, e := range errs {
		if e != "" {
			t.Fatalf("create s-%02d: %s", i, e)
		}
		allocs[i] = decodeService(t, bodies[i])
	}
	_, cidr, _ := net.ParseCIDR("10.96.0.0/12")
	ips, ports := map[string]string{}, map[int]string{}
	for _, a := range allocs {
		if ip := net.ParseIP(a.clusterIP); ip == nil || !cidr.Contains(ip) || a.clusterIP == "10.96.0.1" {
			t.Errorf("%s: clusterIP %q outside 10.96.0.0/12 or the kubernetes IP", a.name, a.clusterIP)
		}
		if a.nodePort < 30000 || a.nodePort > 32767 {
			t.Errorf("%s: nodePort %d outside 30000-32767", a.name, a.nodePort)
		}
		if other, dup := ips[a.clusterIP]; dup {
			t.Errorf("%s and %s share clusterIP %s", a.name, other, a.clusterIP)
		}
		if other, dup := ports[a.nodePort]; dup {
			t.Errorf("%s and %s share nodePort %d", a.name, other, a.nodePort)
		}
		ips[a.clusterIP], ports[a.nodePort] = a.name, a.name
	}
	// What kubectl shows must match what the creates returned.
	shown := kubectl(t, "-n", ns, "get", "svc", "-o", `jsonpath={range .items[*]}{.metadata.name}={.spec.clusterIP}:{.spec.ports[0].nodePort}{"\n"}{end}`)
	for _, a := range allocs {
		if want := fmt.Sprintf("%s=%s:%d\n", a.name, a.clusterIP, a.nodePort); !strings.Contains(shown, want) {
			t.Errorf("kubectl get lacks %q", want)
		}
	}
	assertClusterWideUnique(t)

	taken := allocs[0]
	t.Run("requested IP in use", func(t *testing.T) {
		resp := c.do(t, http.MethodPost, base, serviceBody(t, "ip-clash", taken.clusterIP, 0))
		if resp.code != http.StatusUnprocessableEntity {
			t.Fatalf("HTTP %d, want 422: %s", resp.code, truncate(resp.body))
		}
		if st := resp.status(t); st.Reason != "Invalid" || !strings.Contains(st.Message, "provided IP is already allocated") {
			t.Errorf("Status = %+v", st)
		}
	})
	t.Run("requested nodePort in use", func(t *testing.T) {
		resp := c.do(t, http.MethodPost, base, serviceBody(t, "port-clash", "", taken.nodePort))
		if resp.code != http.StatusUnprocessableEntity {
			t.Fatalf("HTTP %d, want 422: %s", resp.code, truncate(resp.body))
		}
		if st := resp.status(t); st.Reason != "Invalid" || !strings.Contains(st.Message, "provided port is already allocated") {
			t.Errorf("Status = %+v", st)
		}
	})
	t.Run("requested values out of range", func(t *testing.T) {
		tests := []struct {
			name, ip string
			port     int
			field    string
			msg      string
		}{
			{"ip-oor", "192.168.0.5", 0, "spec.clusterIPs", "provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12"},
			{"port-oor", "", 80, "spec.ports[0].nodePort", "provided port is not in the valid range. The range of valid ports is 30000-32767"},
		}
		for _, tc := range tests {
			resp := c.do(t, http.MethodPost, base, serviceBody(t, tc.name, tc.ip, tc.port))
			st := resp.status(t)
			if resp.code != 422 || !strings.Contains(st.Message, tc.msg) || st.Details == nil || len(st.Details.Causes) == 0 || st.Details.Causes[0].Field != tc.field {
				t.Errorf("%s: HTTP %d %s", tc.name, resp.code, truncate(resp.body))
			}
			if got := c.do(t, http.MethodGet, base+"/"+tc.name, nil).code; got != 404 {
				t.Errorf("%s stored: GET = %d", tc.name, got)
			}
		}
	})
	t.Run("delete frees IP and nodePort", func(t *testing.T) {
		if out := kubectl(t, "-n", ns, "delete", "svc", taken.name); strings.TrimSpace(out) != fmt.Sprintf("service %q deleted", taken.name) {
			t.Fatalf("delete: %q", out)
		}
		resp := c.do(t, http.MethodPost, base, serviceBody(t, "reuse", taken.clusterIP, taken.nodePort))
		if resp.code != http.StatusCreated {
			t.Fatalf("re-request freed IP %s and port %d: HTTP %d %s", taken.clusterIP, taken.nodePort, resp.code, truncate(resp.body))
		}
		if got := decodeService(t, resp.body); got.clusterIP != taken.clusterIP || got.nodePort != taken.nodePort {
			t.Errorf("got %+v, want IP %s port %d", got, taken.clusterIP, taken.nodePort)
		}
	})
}

// assertClusterWideUnique checks every Service in the cluster: no two may
// share a cluster IP or a node port.
func assertClusterWideUnique(t *testing.T) {
	t.Helper()
	out := kubectl(t, "get", "svc", "-A", "-o", `jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {.spec.clusterIP} {.spec.ports[*].nodePort}{"\n"}{end}`)
	owner := map[string]string{}
	for _, l := range nonEmptyLines(out) {
		f := strings.Fields(l)
		for _, key := range f[1:] {
			if key == "None" {
				continue
			}
			if prev, dup := owner[key]; dup {
				t.Errorf("%s and %s both hold %s", prev, f[0], key)
			}
			owner[key] = f[0]
		}
	}
}

func TestServices_Bootstrap(t *testing.T) {
	requireServer(t)
	t.Parallel()
	if got := kubectl(t, "-n", "default", "get", "svc", "kubernetes", "-o", "jsonpath={.spec.clusterIP} {.spec.ports[0].name} {.spec.ports[0].port}"); got != "10.96.0.1 https 443" {
		t.Errorf("kubernetes service: %q", got)
	}
	nss := kubectl(t, "get", "namespaces", "-o", "name")
	for _, want := range []string{"namespace/default", "namespace/kube-system", "namespace/kube-public", "namespace/kube-node-lease"} {
		if !strings.Contains(nss, want+"\n") {
			t.Errorf("namespaces lack %s: %q", want, nss)
		}
	}
	for _, l := range nonEmptyLines(kubectl(t, "get", "namespaces", "default", "kube-system", "kube-public", "--no-headers")) {
		if f := strings.Fields(l); f[1] != "Active" {
			t.Errorf("namespace not Active: %q", l)
		}
	}
}
