package core

import (
	"context"
	"net"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func testOpts() Options {
	_, n, _ := net.ParseCIDR("10.96.0.0/24")
	return Options{ServiceCIDR: n}
}

func newService(typ corev1.ServiceType) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", ResourceVersion: "1"},
		Spec: corev1.ServiceSpec{
			Type:     typ,
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Port: 80}},
		},
	}
}

// createService runs defaults, allocation and validation like the store.
func createService(t *testing.T, svc *corev1.Service) field.ErrorList {
	t.Helper()
	s := serviceStrategy{opts: testOpts()}
	s.Default(svc)
	s.PrepareForCreate(context.Background(), svc)
	if _, err := s.Allocate(svc, nil, nil); err != nil {
		return field.ErrorList{err}
	}
	return s.Validate(context.Background(), svc)
}

func TestServiceDefaults(t *testing.T) {
	cases := []struct {
		name  string
		typ   corev1.ServiceType
		check func(t *testing.T, s *corev1.ServiceSpec)
	}{
		{"clusterIP", "", func(t *testing.T, s *corev1.ServiceSpec) {
			if s.Type != corev1.ServiceTypeClusterIP || s.SessionAffinity != corev1.ServiceAffinityNone {
				t.Errorf("type/affinity = %s/%s", s.Type, s.SessionAffinity)
			}
			if s.Ports[0].Protocol != corev1.ProtocolTCP || s.Ports[0].TargetPort != intstr.FromInt32(80) {
				t.Errorf("port = %+v", s.Ports[0])
			}
			if *s.InternalTrafficPolicy != corev1.ServiceInternalTrafficPolicyCluster ||
				*s.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack ||
				len(s.IPFamilies) != 1 || s.IPFamilies[0] != corev1.IPv4Protocol {
				t.Errorf("policies = %v %v %v", *s.InternalTrafficPolicy, *s.IPFamilyPolicy, s.IPFamilies)
			}
			if s.ExternalTrafficPolicy != "" || s.AllocateLoadBalancerNodePorts != nil {
				t.Errorf("unexpected NodePort fields: %q %v", s.ExternalTrafficPolicy, s.AllocateLoadBalancerNodePorts)
			}
			if s.ClusterIP == "" || len(s.ClusterIPs) != 1 || s.ClusterIPs[0] != s.ClusterIP {
				t.Errorf("clusterIP = %q %v", s.ClusterIP, s.ClusterIPs)
			}
		}},
		{"nodePort", corev1.ServiceTypeNodePort, func(t *testing.T, s *corev1.ServiceSpec) {
			if s.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyCluster {
				t.Errorf("externalTrafficPolicy = %q", s.ExternalTrafficPolicy)
			}
			if p := s.Ports[0].NodePort; p < 30000 || p > 32767 {
				t.Errorf("nodePort = %d", p)
			}
		}},
		{"loadBalancer", corev1.ServiceTypeLoadBalancer, func(t *testing.T, s *corev1.ServiceSpec) {
			if s.AllocateLoadBalancerNodePorts == nil || !*s.AllocateLoadBalancerNodePorts {
				t.Errorf("allocateLoadBalancerNodePorts = %v", s.AllocateLoadBalancerNodePorts)
			}
			if s.Ports[0].NodePort == 0 {
				t.Errorf("no nodePort allocated")
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc := newService(tc.typ)
			if errs := createService(t, svc); len(errs) != 0 {
				t.Fatalf("unexpected errors: %v", errs)
			}
			tc.check(t, &svc.Spec)
		})
	}
}

func TestServiceHeadlessAndExternalName(t *testing.T) {
	h := newService("")
	h.Spec.ClusterIP = corev1.ClusterIPNone
	h.Spec.Ports = nil
	h.Spec.Selector = nil
	if errs := createService(t, h); len(errs) != 0 {
		t.Fatalf("headless: %v", errs)
	}
	if h.Spec.ClusterIPs[0] != "None" || *h.Spec.IPFamilyPolicy != corev1.IPFamilyPolicyRequireDualStack {
		t.Errorf("headless spec = %v %v", h.Spec.ClusterIPs, *h.Spec.IPFamilyPolicy)
	}
	e := newService(corev1.ServiceTypeExternalName)
	e.Spec.ExternalName = "example.com"
	if errs := createService(t, e); len(errs) != 0 {
		t.Fatalf("externalName: %v", errs)
	}
	if e.Spec.ClusterIP != "" || e.Spec.IPFamilies != nil || e.Spec.InternalTrafficPolicy != nil {
		t.Errorf("externalName got IP fields: %+v", e.Spec)
	}
}

func TestServiceValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*corev1.Service)
		want   []wantErr
	}{
		{"bad name (DNS-1035)", func(s *corev1.Service) { s.Name = "1web" },
			[]wantErr{{"metadata.name", field.ErrorTypeInvalid}}},
		{"no ports", func(s *corev1.Service) { s.Spec.Ports = nil },
			[]wantErr{{"spec.ports", field.ErrorTypeRequired}}},
		{"two ports need names", func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Port: 81})
		}, []wantErr{{"spec.ports[0].name", field.ErrorTypeRequired}, {"spec.ports[1].name", field.ErrorTypeRequired}}},
		{"duplicate names", func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Name: "a", Port: 80}, {Name: "a", Port: 81}}
		}, []wantErr{{"spec.ports[1].name", field.ErrorTypeDuplicate}}},
		{"bad type", func(s *corev1.Service) { s.Spec.Type = "Magic" },
			[]wantErr{{"spec.type", field.ErrorTypeNotSupported}}},
		{"nodePort on ClusterIP", func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 30001 },
			[]wantErr{{"spec.ports[0].nodePort", field.ErrorTypeForbidden}}},
		{"port out of range", func(s *corev1.Service) { s.Spec.Ports[0].Port = 0 },
			[]wantErr{{"spec.ports[0].port", field.ErrorTypeInvalid}, {"spec.ports[0].targetPort", field.ErrorTypeInvalid}}},
		{"externalName missing", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeExternalName }, []wantErr{{"spec.externalName", field.ErrorTypeRequired}}},
		{"externalTrafficPolicy on ClusterIP", func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = "Local" },
			[]wantErr{{"spec.externalTrafficPolicy", field.ErrorTypeInvalid}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc := newService("")
			st := serviceStrategy{opts: testOpts()}
			tc.mutate(svc)
			st.Default(svc)
			checkErrs(t, st.Validate(context.Background(), svc), tc.want...)
		})
	}
}

func TestServiceUpdate(t *testing.T) {
	st := serviceStrategy{opts: testOpts()}
	old := newService(corev1.ServiceTypeNodePort)
	if errs := createService(t, old); len(errs) != 0 {
		t.Fatal(errs)
	}

	// An update that omits allocated values keeps them.
	upd := newService(corev1.ServiceTypeNodePort)
	st.Default(upd)
	st.PrepareForUpdate(context.Background(), upd, old)
	if upd.Spec.ClusterIP != old.Spec.ClusterIP || upd.Spec.Ports[0].NodePort != old.Spec.Ports[0].NodePort {
		t.Errorf("allocations not kept: %+v", upd.Spec)
	}
	checkErrs(t, st.ValidateUpdate(context.Background(), upd, old))

	// Changing the cluster IP is rejected.
	chg := old.DeepCopy()
	chg.Spec.ClusterIP, chg.Spec.ClusterIPs = "10.96.0.200", []string{"10.96.0.200"}
	checkErrs(t, st.ValidateUpdate(context.Background(), chg, old),
		wantErr{"spec.clusterIPs[0]", field.ErrorTypeInvalid})

	// Going back to ClusterIP drops the node ports.
	back := old.DeepCopy()
	back.Spec.Type = corev1.ServiceTypeClusterIP
	back.Spec.ExternalTrafficPolicy = ""
	st.PrepareForUpdate(context.Background(), back, old)
	if back.Spec.Ports[0].NodePort != 0 {
		t.Errorf("nodePort kept: %d", back.Spec.Ports[0].NodePort)
	}
	checkErrs(t, st.ValidateUpdate(context.Background(), back, old))

	// Switching to ExternalName drops the cluster IP fields.
	ext := old.DeepCopy()
	ext.Spec.Type, ext.Spec.ExternalName, ext.Spec.ExternalTrafficPolicy = corev1.ServiceTypeExternalName, "example.com", ""
	st.Default(ext)
	st.PrepareForUpdate(context.Background(), ext, old)
	if ext.Spec.ClusterIP != "" || ext.Spec.IPFamilies != nil {
		t.Errorf("cluster IP kept: %+v", ext.Spec)
	}
	checkErrs(t, st.ValidateUpdate(context.Background(), ext, old))
}

func TestServiceFields(t *testing.T) {
	svc := newService(corev1.ServiceTypeNodePort)
	svc.Spec.ClusterIP = "10.96.0.9"
	got := serviceResource(testOpts()).Fields(svc)
	if got["spec.clusterIP"] != "10.96.0.9" || got["spec.type"] != "NodePort" || len(got) != 2 {
		t.Errorf("fields = %v", got)
	}
}
