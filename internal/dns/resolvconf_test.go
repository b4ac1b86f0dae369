package dns

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestParseResolvConf(t *testing.T) {
	rc := ParseResolvConf(strings.NewReader("# comment\nnameserver 10.0.0.2\ndomain old.example\nsearch a.example b.example ; trailing\nnameserver 10.0.0.3\noptions ndots:2 rotate\n"))
	if fmt.Sprint(rc) != "{[10.0.0.2 10.0.0.3] [a.example b.example] [ndots:2 rotate]}" {
		t.Errorf("parsed %v", rc)
	}
}

func TestPodDNS(t *testing.T) {
	host := ResolvConf{Nameservers: []string{"192.0.2.53"}, Searches: []string{"corp.example"}, Options: []string{"timeout:2"}}
	pod := func(policy corev1.DNSPolicy, hostNet bool, cfg *corev1.PodDNSConfig) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "team"},
			Spec: corev1.PodSpec{DNSPolicy: policy, HostNetwork: hostNet, DNSConfig: cfg}}
	}
	cluster := "{[10.96.0.10] [team.svc.cluster.local svc.cluster.local cluster.local corp.example] [ndots:5]}"
	tests := []struct {
		name    string
		pod     *corev1.Pod
		dns     []string
		want    string
		ok      bool
		warning bool
	}{
		{"ClusterFirst", pod(corev1.DNSClusterFirst, false, nil), []string{"10.96.0.10"}, cluster, true, false},
		{"empty policy is ClusterFirst", pod("", false, nil), []string{"10.96.0.10"}, cluster, true, false},
		{"ClusterFirst on the host network is Default", pod(corev1.DNSClusterFirst, true, nil), []string{"10.96.0.10"}, "{[] [] []}", false, false},
		{"ClusterFirstWithHostNet", pod(corev1.DNSClusterFirstWithHostNet, true, nil), []string{"10.96.0.10"}, cluster, true, false},
		{"ClusterFirst without cluster DNS falls back", pod(corev1.DNSClusterFirst, false, nil), nil, "{[] [] []}", false, true},
		{"Default copies the node's file", pod(corev1.DNSDefault, false, nil), []string{"10.96.0.10"}, "{[] [] []}", false, false},
		{"Default with dnsConfig merges", pod(corev1.DNSDefault, false, &corev1.PodDNSConfig{Searches: []string{"x.example"}}),
			[]string{"10.96.0.10"}, "{[192.0.2.53] [corp.example x.example] [timeout:2]}", true, false},
		{"None uses dnsConfig alone", pod(corev1.DNSNone, false, &corev1.PodDNSConfig{Nameservers: []string{"1.2.3.4"}, Searches: []string{"s.example"},
			Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr.To("1")}, {Name: "edns0"}}}),
			nil, "{[1.2.3.4] [s.example] [ndots:1 edns0]}", true, false},
		{"ClusterFirst with dnsConfig overrides options and dedupes", pod(corev1.DNSClusterFirst, false, &corev1.PodDNSConfig{
			Nameservers: []string{"10.96.0.10", "1.1.1.1", "2.2.2.2", "3.3.3.3"}, Searches: []string{"svc.cluster.local", "extra.example"},
			Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr.To("2")}}}), []string{"10.96.0.10"},
			"{[10.96.0.10 1.1.1.1 2.2.2.2] [team.svc.cluster.local svc.cluster.local cluster.local corp.example extra.example] [ndots:2]}", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc, ok, warning := PodDNS(tc.pod, tc.dns, "cluster.local", host)
			if got := fmt.Sprint(ResolvConf{Nameservers: orEmpty(rc.Nameservers), Searches: orEmpty(rc.Searches), Options: orEmpty(rc.Options)}); got != tc.want || ok != tc.ok || (warning != "") != tc.warning {
				t.Errorf("got %s ok=%v warning=%q; want %s ok=%v warning=%v", got, ok, warning, tc.want, tc.ok, tc.warning)
			}
		})
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestSearchListLimits(t *testing.T) {
	var many []string
	for i := range 40 {
		many = append(many, fmt.Sprintf("d%d.example", i))
	}
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "n"}, Spec: corev1.PodSpec{DNSPolicy: corev1.DNSNone,
		DNSConfig: &corev1.PodDNSConfig{Searches: many}}}
	rc, _, _ := PodDNS(p, nil, "cluster.local", ResolvConf{})
	if len(rc.Searches) != MaxSearchDomains {
		t.Errorf("%d search domains kept, want %d", len(rc.Searches), MaxSearchDomains)
	}
}
