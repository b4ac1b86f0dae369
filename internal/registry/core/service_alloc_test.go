package core

import (
	"net"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestFirstServiceIP(t *testing.T) {
	cases := []struct{ cidr, want string }{
		{"10.96.0.0/12", "10.96.0.1"},
		{"10.96.5.7/16", "10.96.0.1"},
		{"fd00:10:96::/108", "fd00:10:96::1"},
	}
	for _, tc := range cases {
		_, n, err := net.ParseCIDR(tc.cidr)
		if err != nil {
			t.Fatal(err)
		}
		if got := FirstServiceIP(n).String(); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.cidr, got, tc.want)
		}
	}
}

func allocSvc(typ corev1.ServiceType, opts Options) (*corev1.Service, serviceStrategy) {
	s := serviceStrategy{opts: opts}
	svc := newService(typ)
	s.Default(svc)
	return svc, s
}

func TestAllocateClusterIP(t *testing.T) {
	_, n, _ := net.ParseCIDR("10.0.0.0/29") // usable for random picks: .2-.6
	opts := Options{ServiceCIDR: n}
	taken := map[string]bool{}
	for i := 0; i < 5; i++ {
		svc, s := allocSvc("", opts)
		claims, err := s.Allocate(svc, nil, taken)
		if err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
		ip := net.ParseIP(svc.Spec.ClusterIP)
		if !n.Contains(ip) || ip.Equal(net.ParseIP("10.0.0.1")) || ip.Equal(net.ParseIP("10.0.0.0")) || ip.Equal(net.ParseIP("10.0.0.7")) {
			t.Fatalf("picked reserved or foreign IP %s", ip)
		}
		if len(claims) != 1 || claims[0] != clusterIPClaimPrefix+ip.String() || taken[claims[0]] {
			t.Fatalf("claims = %v (taken %v)", claims, taken)
		}
		if svc.Spec.ClusterIPs[0] != svc.Spec.ClusterIP {
			t.Fatalf("clusterIPs = %v", svc.Spec.ClusterIPs)
		}
		taken[claims[0]] = true
	}
	svc, s := allocSvc("", opts)
	if _, err := s.Allocate(svc, nil, taken); err == nil || !hasDetail(field.ErrorList{err}, "range is full") {
		t.Fatalf("exhausted range: err = %v", err)
	}
	// The first address is still available on explicit request.
	svc, s = allocSvc("", opts)
	svc.Spec.ClusterIP = "10.0.0.1"
	if _, err := s.Allocate(svc, nil, taken); err != nil {
		t.Fatalf("explicit first IP: %v", err)
	}
}

func TestAllocateExplicitClusterIP(t *testing.T) {
	taken := map[string]bool{clusterIPClaimPrefix + "10.96.0.10": true}
	cases := []struct {
		name   string
		ip     string
		old    bool
		detail string
	}{
		{"free", "10.96.0.11", false, ""},
		{"taken", "10.96.0.10", false, "provided IP is already allocated"},
		{"held by old", "10.96.0.10", true, ""},
		{"out of range", "10.97.0.10", false, "not in the valid range"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc, s := allocSvc("", testOpts())
			svc.Spec.ClusterIP, svc.Spec.ClusterIPs = tc.ip, []string{tc.ip}
			var old *corev1.Service
			if tc.old {
				old = svc.DeepCopy()
			}
			var err *field.Error
			if old != nil {
				_, err = s.Allocate(svc, old, taken)
			} else {
				_, err = s.Allocate(svc, nil, taken)
			}
			if tc.detail == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || err.Type != field.ErrorTypeInvalid || err.Field != "spec.clusterIPs" || !hasDetail(field.ErrorList{err}, tc.detail) {
				t.Fatalf("err = %v, want %q", err, tc.detail)
			}
		})
	}
}

func TestAllocateNodePorts(t *testing.T) {
	opts := Options{ServiceCIDR: testOpts().ServiceCIDR, NodePortMin: 30000, NodePortMax: 30002}
	taken := map[string]bool{nodePortClaimPrefix + "30001": true}
	svc, s := allocSvc(corev1.ServiceTypeNodePort, opts)
	svc.Spec.Ports = []corev1.ServicePort{{Name: "a", Port: 80, Protocol: "TCP"}, {Name: "b", Port: 81, Protocol: "TCP"}}
	claims, err := s.Allocate(svc, nil, taken)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int32]bool{svc.Spec.Ports[0].NodePort: true, svc.Spec.Ports[1].NodePort: true}
	if !got[30000] || !got[30002] {
		t.Fatalf("nodePorts = %v", got)
	}
	if len(claims) != 3 {
		t.Fatalf("claims = %v", claims)
	}
	for _, c := range []string{"30000", "30002"} {
		if !contains(claims, nodePortClaimPrefix+c) {
			t.Errorf("claims %v lack %s", claims, c)
		}
	}
	// Range now full.
	for _, c := range claims {
		taken[c] = true
	}
	svc2, _ := allocSvc(corev1.ServiceTypeNodePort, opts)
	if _, err := s.Allocate(svc2, nil, taken); err == nil || !hasDetail(field.ErrorList{err}, "range is full") {
		t.Fatalf("err = %v", err)
	}
	// Explicit requests: taken, and out of range.
	cases := []struct {
		port   int32
		detail string
	}{
		{30001, "provided port is already allocated"},
		{40000, "provided port is not in the valid range. The range of valid ports is 30000-30002"},
	}
	for _, tc := range cases {
		svc3, _ := allocSvc(corev1.ServiceTypeNodePort, opts)
		svc3.Spec.Ports[0].NodePort = tc.port
		_, err := s.Allocate(svc3, nil, taken)
		if err == nil || err.Field != "spec.ports[0].nodePort" || !hasDetail(field.ErrorList{err}, tc.detail) {
			t.Errorf("port %d: err = %v", tc.port, err)
		}
	}
}

func TestClaims(t *testing.T) {
	svc := newService(corev1.ServiceTypeLoadBalancer)
	svc.Spec.ClusterIP = "10.96.0.3"
	svc.Spec.Ports[0].NodePort = 30080
	svc.Spec.HealthCheckNodePort = 30081
	s := serviceStrategy{}
	want := []string{clusterIPClaimPrefix + "10.96.0.3", nodePortClaimPrefix + strconv.Itoa(30080), nodePortClaimPrefix + "30081"}
	got := s.Claims(svc)
	if len(got) != len(want) {
		t.Fatalf("claims = %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("claim %d = %s, want %s", i, got[i], want[i])
		}
	}
	svc.Spec.ClusterIP = corev1.ClusterIPNone
	svc.Spec.Ports[0].NodePort, svc.Spec.HealthCheckNodePort = 0, 0
	if got := s.Claims(svc); len(got) != 0 {
		t.Errorf("headless claims = %v", got)
	}
}
