package dns

import (
	"sort"
	"strings"
	"testing"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// fakeModel is an in-memory Model.
type fakeModel struct {
	services []*corev1.Service
	slices   []*discoveryv1.EndpointSlice
}

func (m *fakeModel) Service(ns, name string) *corev1.Service {
	for _, s := range m.services {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return nil
}

func (m *fakeModel) Slices(ns, name string) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for _, s := range m.slices {
		if s.Namespace == ns && s.Labels[discoveryv1.LabelServiceName] == name {
			out = append(out, s)
		}
	}
	return out
}

func (m *fakeModel) ServiceByIP(ip string) *corev1.Service {
	for _, s := range m.services {
		if s.Spec.ClusterIP == ip {
			return s
		}
	}
	return nil
}

func (m *fakeModel) HasNamespace(ns string) bool {
	for _, s := range m.services {
		if s.Namespace == ns {
			return true
		}
	}
	return false
}

func service(ns, name, ip string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{ClusterIP: ip, ClusterIPs: []string{ip}, Ports: ports}}
}

func testModel() *fakeModel {
	headless := service("default", "db", corev1.ClusterIPNone, corev1.ServicePort{Name: "sql", Port: 5432, Protocol: corev1.ProtocolTCP})
	headless.Spec.ClusterIPs = []string{corev1.ClusterIPNone}
	ext := service("default", "search", "")
	ext.Spec.Type, ext.Spec.ExternalName = corev1.ServiceTypeExternalName, "search.example.com"
	ep := func(ip, host string, ready bool) discoveryv1.Endpoint {
		e := discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)}}
		if host != "" {
			e.Hostname = ptr.To(host)
		}
		return e
	}
	return &fakeModel{
		services: []*corev1.Service{
			service("default", "hello", "10.96.0.20", corev1.ServicePort{Name: "http", Port: 8080, Protocol: corev1.ProtocolTCP},
				corev1.ServicePort{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}),
			headless, ext,
		},
		slices: []*discoveryv1.EndpointSlice{{
			ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: "db-1", Labels: map[string]string{discoveryv1.LabelServiceName: "db"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("sql"), Port: ptr.To[int32](15432), Protocol: ptr.To(corev1.ProtocolTCP)}},
			Endpoints:   []discoveryv1.Endpoint{ep("10.244.1.5", "db-0", true), ep("10.244.2.6", "", true), ep("10.244.3.7", "db-2", false)},
		}},
	}
}

// render prints an answer compactly: rcode, then the answer section, then
// the additional section after "+".
func render(a Answer) string {
	var parts []string
	parts = append(parts, dns.RcodeToString[a.Rcode])
	line := func(rr dns.RR) string {
		h := rr.Header()
		return strings.TrimPrefix(rr.String(), h.String())
	}
	var ans []string
	for _, rr := range a.Answer {
		ans = append(ans, dns.TypeToString[rr.Header().Rrtype]+" "+line(rr))
	}
	sort.Strings(ans)
	parts = append(parts, ans...)
	for _, rr := range a.Extra {
		parts = append(parts, "+"+dns.TypeToString[rr.Header().Rrtype]+" "+rr.Header().Name+" "+line(rr))
	}
	if len(a.NS) > 0 {
		parts = append(parts, "soa")
	}
	return strings.Join(parts, " | ")
}

func TestResolve(t *testing.T) {
	r := &Resolver{Domain: "cluster.local", Model: testModel(), TTL: 5}
	tests := []struct {
		name  string
		qtype uint16
		want  string
	}{
		{"hello.default.svc.cluster.local.", dns.TypeA, "NOERROR | A 10.96.0.20"},
		{"HELLO.Default.svc.cluster.local.", dns.TypeA, "NOERROR | A 10.96.0.20"},
		{"hello.default.svc.cluster.local.", dns.TypeAAAA, "NOERROR | soa"},
		{"nope.default.svc.cluster.local.", dns.TypeA, "NXDOMAIN | soa"},
		{"hello.other.svc.cluster.local.", dns.TypeA, "NXDOMAIN | soa"},
		{"default.svc.cluster.local.", dns.TypeA, "NOERROR | soa"},
		{"nsless.svc.cluster.local.", dns.TypeA, "NXDOMAIN | soa"},
		{"svc.cluster.local.", dns.TypeA, "NOERROR | soa"},
		{"hello.default.svc.cluster.local.default.svc.cluster.local.", dns.TypeA, "NXDOMAIN | soa"},
		{"_http._tcp.hello.default.svc.cluster.local.", dns.TypeSRV, "NOERROR | SRV 0 100 8080 hello.default.svc.cluster.local. | +A hello.default.svc.cluster.local. 10.96.0.20"},
		{"_dns._udp.hello.default.svc.cluster.local.", dns.TypeSRV, "NOERROR | SRV 0 100 53 hello.default.svc.cluster.local. | +A hello.default.svc.cluster.local. 10.96.0.20"},
		{"_http._udp.hello.default.svc.cluster.local.", dns.TypeSRV, "NXDOMAIN | soa"},
		{"db.default.svc.cluster.local.", dns.TypeA, "NOERROR | A 10.244.1.5 | A 10.244.2.6"},
		{"db-0.db.default.svc.cluster.local.", dns.TypeA, "NOERROR | A 10.244.1.5"},
		{"10-244-2-6.db.default.svc.cluster.local.", dns.TypeA, "NOERROR | A 10.244.2.6"},
		{"db-2.db.default.svc.cluster.local.", dns.TypeA, "NXDOMAIN | soa"},
		{"x.hello.default.svc.cluster.local.", dns.TypeA, "NXDOMAIN | soa"},
		{"_sql._tcp.db.default.svc.cluster.local.", dns.TypeSRV,
			"NOERROR | SRV 0 50 15432 10-244-2-6.db.default.svc.cluster.local. | SRV 0 50 15432 db-0.db.default.svc.cluster.local. | " +
				"+A db-0.db.default.svc.cluster.local. 10.244.1.5 | +A 10-244-2-6.db.default.svc.cluster.local. 10.244.2.6"},
		{"search.default.svc.cluster.local.", dns.TypeA, "NOERROR | CNAME search.example.com."},
		{"10-244-1-9.default.pod.cluster.local.", dns.TypeA, "NOERROR | A 10.244.1.9"},
		{"bogus.default.pod.cluster.local.", dns.TypeA, "NXDOMAIN | soa"},
		{"cluster.local.", dns.TypeSOA, "NOERROR | SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5"},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/"+dns.TypeToString[tc.qtype], func(t *testing.T) {
			got := render(r.Resolve(dns.Question{Name: tc.name, Qtype: tc.qtype, Qclass: dns.ClassINET}))
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestInZoneAndReverse(t *testing.T) {
	r := &Resolver{Domain: "cluster.local", Model: testModel(), TTL: 5}
	if !r.InZone("a.cluster.local") || r.InZone("example.com.") || r.InZone("notcluster.local.") {
		t.Error("InZone misjudges names")
	}
	rrs, ok := r.Reverse(dns.Question{Name: "20.0.96.10.in-addr.arpa.", Qtype: dns.TypePTR})
	if !ok || len(rrs) != 1 || rrs[0].(*dns.PTR).Ptr != "hello.default.svc.cluster.local." {
		t.Errorf("PTR of a cluster IP: %v %v", rrs, ok)
	}
	if _, ok := r.Reverse(dns.Question{Name: "1.1.168.192.in-addr.arpa.", Qtype: dns.TypePTR}); ok {
		t.Error("PTR of an unknown address must be forwarded")
	}
}
