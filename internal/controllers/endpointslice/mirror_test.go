package endpointslice_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/navarch/navarch/internal/controllers/endpointslice"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

func TestMirroring(t *testing.T) {
	env := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	cc, start := env.ControllerContext(t, ctx)
	ctl, err := endpointslice.NewMirroring(cc)
	if err != nil {
		t.Fatal(err)
	}
	start()
	done := make(chan struct{})
	go func() { defer close(done); _ = ctl.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	c := env.Client
	ns := env.Namespace(t, "mirror")
	if _, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "pg", Port: 5432}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ep, err := c.CoreV1().Endpoints(ns).Create(ctx, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Subsets: []corev1.EndpointSubset{{
		Addresses:         []corev1.EndpointAddress{{IP: "192.0.2.10"}, {IP: "2001:db8::10"}},
		NotReadyAddresses: []corev1.EndpointAddress{{IP: "192.0.2.11"}},
		Ports:             []corev1.EndpointPort{{Name: "pg", Port: 5432, Protocol: corev1.ProtocolTCP}},
	}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// One slice per family, owned by the Endpoints.
	ss := waitSummary(t, c, ns, "db", "192.0.2.10:5432/true/true/false", "192.0.2.11:5432/false/false/false", "2001:db8::10:5432/true/true/false")
	for _, s := range ss {
		ref := metav1.GetControllerOf(&s)
		if s.Labels[discoveryv1.LabelManagedBy] != endpointslice.MirroringControllerName || ref == nil || ref.Kind != "Endpoints" || ref.UID != ep.UID {
			t.Errorf("mirrored slice %s: labels %v owner %+v", s.Name, s.Labels, ref)
		}
	}
	if len(ss) != 2 {
		t.Errorf("%d slices, want one per address family", len(ss))
	}

	ep.Subsets[0].NotReadyAddresses = nil
	if ep, err = c.CoreV1().Endpoints(ns).Update(ctx, ep, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitSummary(t, c, ns, "db", "192.0.2.10:5432/true/true/false", "2001:db8::10:5432/true/true/false")

	// Opting out removes the mirrored slices.
	ep.Labels = map[string]string{"endpointslice.kubernetes.io/skip-mirror": "true"}
	if _, err := c.CoreV1().Endpoints(ns).Update(ctx, ep, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitSummary(t, c, ns, "db")
}
