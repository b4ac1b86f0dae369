package openapi

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/navarch/navarch/internal/registry"
)

func testResources() []*registry.Resource {
	obj := func(o runtime.Object) func() runtime.Object {
		return func() runtime.Object { return o.DeepCopyObject() }
	}
	hpaStorage := &registry.Conversion{Storage: schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}}
	return []*registry.Resource{
		{Version: "v1", Resource: "pods", Kind: "Pod", Singular: "pod", ShortNames: []string{"po"}, Categories: []string{"all"},
			Namespaced: true, New: obj(&corev1.Pod{}), NewList: obj(&corev1.PodList{}), HasStatus: true,
			Subresources: []string{"binding", "eviction", "log", "exec", "attach", "portforward", "proxy"}},
		{Version: "v1", Resource: "namespaces", Kind: "Namespace", Singular: "namespace", ShortNames: []string{"ns"},
			New: obj(&corev1.Namespace{}), NewList: obj(&corev1.NamespaceList{}), HasStatus: true, Subresources: []string{"finalize"},
			Verbs: []string{"create", "delete", "get", "list", "patch", "update", "watch"}},
		{Version: "v1", Resource: "serviceaccounts", Kind: "ServiceAccount", Singular: "serviceaccount", ShortNames: []string{"sa"},
			Namespaced: true, New: obj(&corev1.ServiceAccount{}), NewList: obj(&corev1.ServiceAccountList{}), Subresources: []string{"token"}},
		{Version: "v1", Resource: "services", Kind: "Service", Singular: "service", ShortNames: []string{"svc"}, Categories: []string{"all"},
			Namespaced: true, New: obj(&corev1.Service{}), NewList: obj(&corev1.ServiceList{}), HasStatus: true, Subresources: []string{"proxy"}},
		{Group: "apps", Version: "v1", Resource: "deployments", Kind: "Deployment", Singular: "deployment", ShortNames: []string{"deploy"},
			Categories: []string{"all"}, Namespaced: true, New: obj(&appsv1.Deployment{}), NewList: obj(&appsv1.DeploymentList{}),
			HasStatus: true, Scale: &registry.Scale{}},
		{Group: "autoscaling", Version: "v1", Resource: "horizontalpodautoscalers", Kind: "HorizontalPodAutoscaler", Singular: "horizontalpodautoscaler",
			ShortNames: []string{"hpa"}, Categories: []string{"all"}, Namespaced: true, HasStatus: true, Conversion: hpaStorage,
			New: obj(&autoscalingv1.HorizontalPodAutoscaler{}), NewList: obj(&autoscalingv1.HorizontalPodAutoscalerList{})},
		{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers", Kind: "HorizontalPodAutoscaler", Singular: "horizontalpodautoscaler",
			ShortNames: []string{"hpa"}, Categories: []string{"all"}, Namespaced: true, HasStatus: true,
			New: obj(&autoscalingv2.HorizontalPodAutoscaler{}), NewList: obj(&autoscalingv2.HorizontalPodAutoscalerList{})},
		{Group: "events.k8s.io", Version: "v1", Resource: "events", Kind: "Event", Singular: "event", ShortNames: []string{"ev"},
			Namespaced: true, New: obj(&eventsv1.Event{}), NewList: obj(&eventsv1.EventList{})},
	}
}
