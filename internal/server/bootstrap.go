package server

import (
	"context"
	"fmt"
	"net"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/navarch/navarch/internal/registry/core"
	"github.com/navarch/navarch/internal/registry/store"
)

var (
	namespacesGVR = corev1.SchemeGroupVersion.WithResource("namespaces")
	servicesGVR   = corev1.SchemeGroupVersion.WithResource("services")
	endpointsGVR  = corev1.SchemeGroupVersion.WithResource("endpoints")
)

// systemNamespaces exist in every cluster.
var systemNamespaces = []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease}

// bootstrap creates the namespaces and the `kubernetes` Service that every
// cluster has. It is idempotent: existing objects are left alone.
func (s *Server) bootstrap(ctx context.Context) error {
	ns := s.stores[namespacesGVR]
	for _, name := range systemNamespaces {
		obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if err := ignoreExists(ns.Create(ctx, "", obj, store.WriteOptions{})); err != nil {
			return err
		}
	}
	if err := s.bootstrapKubernetesService(ctx); err != nil {
		return err
	}
	return s.bootstrapDNSService(ctx)
}

// bootstrapDNSService creates kube-system/kube-dns at the 10th address of
// the service range, where clients expect the cluster DNS. It has no
// selector: every node agent answers DNS itself, and its proxy sends this
// IP's port 53 to it. An address already taken is logged, not fatal.
func (s *Server) bootstrapDNSService(ctx context.Context) error {
	cidr, err := s.opts.serviceCIDR()
	if err != nil {
		return err
	}
	ip := dnsServiceIP(cidr)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: metav1.NamespaceSystem,
			Labels: map[string]string{"k8s-app": "kube-dns", "kubernetes.io/name": "KubeDNS"}},
		Spec: corev1.ServiceSpec{ClusterIP: ip.String(), Ports: []corev1.ServicePort{
			{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
			{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
		}},
	}
	_, err = s.stores[servicesGVR].Create(ctx, metav1.NamespaceSystem, svc, store.WriteOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		s.log.Warn("no kube-dns Service", "ip", ip.String(), "err", err)
	}
	return nil
}

// dnsServiceIP is the 10th address of the service range.
func dnsServiceIP(cidr *net.IPNet) net.IP {
	ip := core.FirstServiceIP(cidr)
	b := ip.To4()
	if b == nil {
		b = ip.To16()
	}
	out := append(net.IP(nil), b...)
	out[len(out)-1] += 9
	return out
}

func (s *Server) bootstrapKubernetesService(ctx context.Context) error {
	cidr, err := s.opts.serviceCIDR()
	if err != nil {
		return err
	}
	ip := core.FirstServiceIP(cidr).String()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{ClusterIP: ip, Ports: []corev1.ServicePort{{
			Name: "https", Port: 443, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(int32(s.opts.Port)),
		}}},
	}
	if err := ignoreExists(s.stores[servicesGVR].Create(ctx, metav1.NamespaceDefault, svc, store.WriteOptions{})); err != nil {
		return err
	}
	ep := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{"endpointslice.kubernetes.io/skip-mirror": "true"}},
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: advertiseIP()}},
			Ports:     []corev1.EndpointPort{{Name: "https", Port: int32(s.opts.Port), Protocol: corev1.ProtocolTCP}},
		}},
	}
	return ignoreExists(s.stores[endpointsGVR].Create(ctx, metav1.NamespaceDefault, ep, store.WriteOptions{}))
}

func ignoreExists(_ runtime.Object, err error) error {
	if err == nil || apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// checkNamespace refuses creates in missing or terminating namespaces. It
// reads the cache first and falls back to a consistent read on a miss, so
// that a namespace created a moment ago is found.
func (s *Server) checkNamespace(ctx context.Context, name string, gr schema.GroupResource, objName string) error {
	st := s.stores[namespacesGVR]
	obj, err := st.Get(ctx, "", name, store.GetOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) {
		obj, err = st.Get(ctx, "", name, store.GetOptions{})
	}
	if err != nil {
		return err
	}
	if ns := obj.(*corev1.Namespace); ns.Status.Phase == corev1.NamespaceTerminating || ns.DeletionTimestamp != nil {
		e := apierrors.NewForbidden(gr, objName, fmt.Errorf("unable to create new content in namespace %s because it is being terminated", name))
		e.ErrStatus.Details.Causes = append(e.ErrStatus.Details.Causes, metav1.StatusCause{
			Type: corev1.NamespaceTerminatingCause, Message: fmt.Sprintf("namespace %s is being terminated", name), Field: "metadata.namespace"})
		return e
	}
	return nil
}
