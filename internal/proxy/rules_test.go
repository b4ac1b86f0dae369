package proxy

import (
	"fmt"
	"net"
	"strings"
	"testing"
)

func ep(ip string, port int32, local, ready bool) Endpoint {
	return Endpoint{IP: net.ParseIP(ip).To4(), Port: port, Local: local, Ready: ready, Serving: ready}
}

func ip4(s string) net.IP { return net.ParseIP(s).To4() }

func TestGenerator(t *testing.T) {
	_, cidr, _ := net.ParseCIDR("10.244.0.0/16")
	base := func() ServicePort {
		return ServicePort{Service: nn("default", "web"), PortName: "http", Protocol: "TCP", ClusterIP: ip4("10.96.0.5"), Port: 80}
	}
	tests := []struct {
		name string
		sp   func() ServicePort
		want string
	}{{
		name: "cluster IP balances over ready endpoints through an endpoint map",
		sp: func() ServicePort {
			sp := base()
			sp.Endpoints = []Endpoint{ep("10.244.1.2", 8080, true, true), ep("10.244.2.2", 8080, false, true), ep("10.244.3.2", 8080, false, false)}
			return sp
		},
		want: `
chain svc-default/web/tcp/http {
	ip saddr != 10.244.0.0/16 meta mark set mark or 0x4000
	meta l4proto tcp dnat ip to numgen random mod 65536 map @eps-default/web/tcp/http
}
element hairpin-endpoints { 10.244.1.2 . 10.244.1.2 }
element hairpin-endpoints { 10.244.2.2 . 10.244.2.2 }
element service-ips { 10.96.0.5 . tcp . 80 : goto svc-default/web/tcp/http }
map eps-default/web/tcp/http { 0-32767 : 10.244.1.2 . 8080, 32768-65535 : 10.244.2.2 . 8080 }`,
	}, {
		name: "three endpoints split the range evenly; endpoints known elsewhere cannot hairpin here",
		sp: func() ServicePort {
			sp := base()
			sp.Endpoints = []Endpoint{ep("10.244.1.2", 8080, true, true), ep("10.244.1.3", 8080, false, true), ep("10.244.2.2", 8080, false, true)}
			sp.Endpoints[2].Remote = true
			return sp
		},
		want: `
chain svc-default/web/tcp/http {
	ip saddr != 10.244.0.0/16 meta mark set mark or 0x4000
	meta l4proto tcp dnat ip to numgen random mod 65536 map @eps-default/web/tcp/http
}
element hairpin-endpoints { 10.244.1.2 . 10.244.1.2 }
element hairpin-endpoints { 10.244.1.3 . 10.244.1.3 }
element service-ips { 10.96.0.5 . tcp . 80 : goto svc-default/web/tcp/http }
map eps-default/web/tcp/http { 0-21844 : 10.244.1.2 . 8080, 21845-43689 : 10.244.1.3 . 8080, 43690-65535 : 10.244.2.2 . 8080 }`,
	}, {
		name: "no endpoints rejects",
		sp:   base,
		want: `element no-endpoint-services { 10.96.0.5 . tcp . 80 : goto reject-chain }`,
	}, {
		name: "terminating serving endpoints are used only when none is ready",
		sp: func() ServicePort {
			sp := base()
			sp.Protocol = "UDP"
			sp.PortName = "dns"
			sp.Endpoints = []Endpoint{{IP: ip4("10.244.1.7"), Port: 53, Serving: true, Terminating: true}, ep("10.244.1.8", 53, true, false)}
			return sp
		},
		want: `
chain svc-default/web/udp/dns {
	ip saddr != 10.244.0.0/16 meta mark set mark or 0x4000
	meta l4proto udp dnat ip to numgen random mod 65536 map @eps-default/web/udp/dns
}
element hairpin-endpoints { 10.244.1.7 . 10.244.1.7 }
element service-ips { 10.96.0.5 . udp . 80 : goto svc-default/web/udp/dns }
map eps-default/web/udp/dns { 0-65535 : 10.244.1.7 . 53 }`,
	}, {
		name: "node port and load balancer IP, cluster policy",
		sp: func() ServicePort {
			sp := base()
			sp.NodePort = 30080
			sp.ExternalIPs = []net.IP{ip4("172.31.0.10")}
			sp.Endpoints = []Endpoint{ep("10.244.2.2", 8080, false, true)}
			return sp
		},
		want: `
chain ext-default/web/tcp/http {
	meta mark set mark or 0x4000 goto svc-default/web/tcp/http
}
chain svc-default/web/tcp/http {
	ip saddr != 10.244.0.0/16 meta mark set mark or 0x4000
	meta l4proto tcp dnat ip to numgen random mod 65536 map @eps-default/web/tcp/http
}
element hairpin-endpoints { 10.244.2.2 . 10.244.2.2 }
element service-ips { 10.96.0.5 . tcp . 80 : goto svc-default/web/tcp/http }
element service-ips { 172.31.0.10 . tcp . 80 : goto ext-default/web/tcp/http }
element service-nodeports { tcp . 30080 : goto ext-default/web/tcp/http }
map eps-default/web/tcp/http { 0-65535 : 10.244.2.2 . 8080 }`,
	}, {
		name: "local external policy keeps the client address for outside traffic",
		sp: func() ServicePort {
			sp := base()
			sp.NodePort = 30080
			sp.ExternalLocal = true
			sp.Endpoints = []Endpoint{ep("10.244.1.2", 8080, true, true), ep("10.244.2.2", 8080, false, true)}
			sp.Endpoints[1].Remote = true
			return sp
		},
		want: `
chain ext-default/web/tcp/http {
	ip saddr 10.244.0.0/16 goto svc-default/web/tcp/http
	fib saddr type local meta mark set mark or 0x4000 goto svc-default/web/tcp/http
	goto local-default/web/tcp/http
}
chain local-default/web/tcp/http {
	meta l4proto tcp dnat ip to numgen random mod 65536 map @local-eps-default/web/tcp/http
}
chain svc-default/web/tcp/http {
	ip saddr != 10.244.0.0/16 meta mark set mark or 0x4000
	meta l4proto tcp dnat ip to numgen random mod 65536 map @eps-default/web/tcp/http
}
element hairpin-endpoints { 10.244.1.2 . 10.244.1.2 }
element service-ips { 10.96.0.5 . tcp . 80 : goto svc-default/web/tcp/http }
element service-nodeports { tcp . 30080 : goto ext-default/web/tcp/http }
map eps-default/web/tcp/http { 0-32767 : 10.244.1.2 . 8080, 32768-65535 : 10.244.2.2 . 8080 }
map local-eps-default/web/tcp/http { 0-65535 : 10.244.1.2 . 8080 }`,
	}, {
		name: "local external policy without local endpoints drops external traffic",
		sp: func() ServicePort {
			sp := base()
			sp.NodePort = 30080
			sp.ExternalLocal = true
			sp.Endpoints = []Endpoint{ep("10.244.2.2", 8080, false, true)}
			return sp
		},
		want: `
chain svc-default/web/tcp/http {
	ip saddr != 10.244.0.0/16 meta mark set mark or 0x4000
	meta l4proto tcp dnat ip to numgen random mod 65536 map @eps-default/web/tcp/http
}
element hairpin-endpoints { 10.244.2.2 . 10.244.2.2 }
element no-endpoint-nodeports { tcp . 30080 : drop }
element service-ips { 10.96.0.5 . tcp . 80 : goto svc-default/web/tcp/http }
map eps-default/web/tcp/http { 0-65535 : 10.244.2.2 . 8080 }`,
	}, {
		name: "client IP affinity keeps per-endpoint chains",
		sp: func() ServicePort {
			sp := base()
			sp.AffinitySeconds = 30
			sp.Endpoints = []Endpoint{ep("10.244.1.2", 8080, true, true)}
			return sp
		},
		want: `
chain ep-default/web/tcp/http__10.244.1.2:8080 {
	update @aff-30s-default/web/tcp/http__10.244.1.2:8080 { ip saddr }
	meta l4proto tcp dnat to 10.244.1.2:8080
}
chain svc-default/web/tcp/http {
	ip saddr != 10.244.0.0/16 meta mark set mark or 0x4000
	ip saddr @aff-30s-default/web/tcp/http__10.244.1.2:8080 goto ep-default/web/tcp/http__10.244.1.2:8080
	numgen random mod 1 vmap { 0 : goto ep-default/web/tcp/http__10.244.1.2:8080 }
}
element hairpin-endpoints { 10.244.1.2 . 10.244.1.2 }
element service-ips { 10.96.0.5 . tcp . 80 : goto svc-default/web/tcp/http }
set aff-30s-default/web/tcp/http__10.244.1.2:8080 { timeout 30s }`,
	}, {
		name: "internal traffic policy Local uses only local endpoints",
		sp: func() ServicePort {
			sp := base()
			sp.InternalLocal = true
			sp.Endpoints = []Endpoint{ep("10.244.2.2", 8080, false, true)}
			return sp
		},
		want: `element no-endpoint-services { 10.96.0.5 . tcp . 80 : goto reject-chain }`,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Generator{ClusterCIDR: cidr}.Service([]ServicePort{tc.sp()}).String()
			if want := strings.TrimSpace(tc.want); got != want {
				t.Errorf("got:\n%s\n\nwant:\n%s", got, want)
			}
		})
	}
}

func TestGeneratorWithoutClusterCIDRMasqueradesAll(t *testing.T) {
	sp := ServicePort{Service: nn("a", "b"), Protocol: "TCP", ClusterIP: ip4("10.96.0.9"), Port: 1, Endpoints: []Endpoint{ep("10.1.0.1", 2, false, true)}}
	got := Generator{}.Service([]ServicePort{sp}).String()
	if !strings.Contains(got, "chain svc-a/b/tcp/ {\n\tmeta mark set mark or 0x4000\n") {
		t.Errorf("without a cluster CIDR every connection is masqueraded:\n%s", got)
	}
}

func TestBaseChains(t *testing.T) {
	hooks, chains := Base()
	var lines []string
	for _, h := range hooks {
		lines = append(lines, h.Name+" "+h.Type+" "+h.Hook)
	}
	for _, c := range chains {
		for _, r := range c.Rules {
			lines = append(lines, c.Name+": "+r.String())
		}
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		"nat-prerouting nat prerouting", "nat-output nat output", "nat-postrouting nat postrouting",
		"services: ip daddr . meta l4proto . th dport vmap @service-ips",
		"services: fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports",
		"masquerading: ct status dnat ip saddr . ip daddr @hairpin-endpoints meta mark set mark or 0x4000",
		"masquerading: meta mark & 0x4000 == 0 return",
		"reject-chain: reject",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("base chains lack %q:\n%s", want, got)
		}
	}
}

func TestEndpointMapIntervals(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 10, 1000} {
		m := EndpointMap{Endpoints: make([]Endpoint, n)}
		ivs := m.intervals()
		next, lo, hi := uint32(0), uint32(numgenRange), uint32(0)
		for _, iv := range ivs {
			if iv.From != next || iv.To < iv.From {
				t.Fatalf("%d endpoints: intervals %v are not contiguous", n, ivs)
			}
			lo, hi = min(lo, iv.To-iv.From+1), max(hi, iv.To-iv.From+1)
			next = iv.To + 1
		}
		if next != numgenRange || hi-lo > 1 {
			t.Errorf("%d endpoints: intervals end at %d, sizes %d..%d; want the whole range split evenly", n, next, lo, hi)
		}
	}
}

func TestEndpointChangeKeepsRules(t *testing.T) {
	_, cidr, _ := net.ParseCIDR("10.244.0.0/16")
	gen := func(eps ...Endpoint) *Objects {
		sp := ServicePort{Service: nn("default", "web"), PortName: "http", Protocol: "TCP", ClusterIP: ip4("10.96.0.5"), Port: 80,
			NodePort: 30080, ExternalLocal: true, Endpoints: eps}
		return Generator{ClusterCIDR: cidr}.Service([]ServicePort{sp})
	}
	a := gen(ep("10.244.1.2", 8080, true, true), ep("10.244.2.2", 8080, false, true))
	b := gen(ep("10.244.1.3", 8080, true, true), ep("10.244.2.2", 8080, false, true), ep("10.244.3.2", 8080, false, true))
	if ca, cb := chainTexts(a), chainTexts(b); fmt.Sprint(ca) != fmt.Sprint(cb) {
		t.Errorf("an endpoint change rewrote rules:\n%v\n%v", ca, cb)
	}
	if fmt.Sprint(a.Elems) != fmt.Sprint(b.Elems) {
		t.Errorf("an endpoint change changed verdict map elements:\n%v\n%v", a.Elems, b.Elems)
	}
}
