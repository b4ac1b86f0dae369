package discovery

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var ctx = context.Background()

func slice() *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "web-abc", Namespace: "default", ResourceVersion: "1"},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, Hostname: new("web-0"), NodeName: new("node-1")}},
		Ports:       []discoveryv1.EndpointPort{{Port: new(int32(80))}},
	}
}

func TestDefault(t *testing.T) {
	es := slice()
	EndpointSliceStrategy{}.Default(es)
	p := es.Ports[0]
	if p.Name == nil || *p.Name != "" || p.Protocol == nil || *p.Protocol != corev1.ProtocolTCP {
		t.Errorf("port defaults: %+v", p)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*discoveryv1.EndpointSlice)
		typ    field.ErrorType
		path   string
	}{
		{"valid", func(*discoveryv1.EndpointSlice) {}, "", ""},
		{"ipv6", func(e *discoveryv1.EndpointSlice) {
			e.AddressType = discoveryv1.AddressTypeIPv6
			e.Endpoints[0].Addresses = []string{"fd00::1"}
		}, "", ""},
		{"fqdn", func(e *discoveryv1.EndpointSlice) {
			e.AddressType = discoveryv1.AddressTypeFQDN
			e.Endpoints[0].Addresses = []string{"example.com"}
		}, "", ""},
		{"no address type", func(e *discoveryv1.EndpointSlice) { e.AddressType = "" }, field.ErrorTypeRequired, "addressType"},
		{"bad address type", func(e *discoveryv1.EndpointSlice) { e.AddressType = "IP" }, field.ErrorTypeNotSupported, "addressType"},
		{"v6 in v4 slice", func(e *discoveryv1.EndpointSlice) { e.Endpoints[0].Addresses = []string{"fd00::1"} },
			field.ErrorTypeInvalid, "endpoints[0].addresses[0]"},
		{"not an ip", func(e *discoveryv1.EndpointSlice) { e.Endpoints[0].Addresses = []string{"web"} },
			field.ErrorTypeInvalid, "endpoints[0].addresses[0]"},
		{"no addresses", func(e *discoveryv1.EndpointSlice) { e.Endpoints[0].Addresses = nil },
			field.ErrorTypeRequired, "endpoints[0].addresses"},
		{"bad hostname", func(e *discoveryv1.EndpointSlice) { e.Endpoints[0].Hostname = new("Web_0") },
			field.ErrorTypeInvalid, "endpoints[0].hostname"},
		{"duplicate port name", func(e *discoveryv1.EndpointSlice) {
			e.Ports = append(e.Ports, discoveryv1.EndpointPort{Port: new(int32(81))})
		}, field.ErrorTypeDuplicate, "ports[1].name"},
		{"bad protocol", func(e *discoveryv1.EndpointSlice) { e.Ports[0].Protocol = new(corev1.Protocol("ICMP")) },
			field.ErrorTypeNotSupported, "ports[0].protocol"},
		{"bad port", func(e *discoveryv1.EndpointSlice) { e.Ports[0].Port = new(int32(70000)) }, field.ErrorTypeInvalid, "ports[0].port"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			es := slice()
			tc.mutate(es)
			EndpointSliceStrategy{}.Default(es)
			errs := EndpointSliceStrategy{}.Validate(ctx, es)
			if tc.path == "" {
				if len(errs) != 0 {
					t.Fatalf("unexpected: %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Type != tc.typ || errs[0].Field != tc.path {
				t.Fatalf("want %s at %s, got %v", tc.typ, tc.path, errs)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	old := slice()
	EndpointSliceStrategy{}.Default(old)
	upd := old.DeepCopy()
	upd.Endpoints[0].Addresses = []string{"10.0.0.2"}
	if errs := (EndpointSliceStrategy{}).ValidateUpdate(ctx, upd, old); len(errs) != 0 {
		t.Fatalf("address change rejected: %v", errs)
	}
	upd.AddressType = discoveryv1.AddressTypeFQDN
	upd.Endpoints[0].Addresses = []string{"example.com"}
	errs := EndpointSliceStrategy{}.ValidateUpdate(ctx, upd, old)
	if len(errs) != 1 || errs[0].Field != "addressType" || errs[0].Detail != "field is immutable" {
		t.Errorf("got %v", errs)
	}
}

func TestResources(t *testing.T) {
	r := Resources()[0]
	if !r.Namespaced || len(r.ShortNames) != 0 || r.Resource != "endpointslices" || r.Group != "discovery.k8s.io" {
		t.Errorf("unexpected %+v", r)
	}
}
