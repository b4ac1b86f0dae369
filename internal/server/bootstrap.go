package server

import (
	"context"
	"fmt"

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
	return s.bootstrapKubernetesService(ctx)
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
