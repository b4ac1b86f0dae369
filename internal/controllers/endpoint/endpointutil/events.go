package endpointutil

import (
	corev1 "k8s.io/api/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// PodHandler queues, through add, the Services that select a pod when it
// comes, goes, or changes in a way their endpoints show; on a label change
// both the Services selecting it before and after.
func PodHandler(services corelisters.ServiceLister, add func(key string)) cache.ResourceEventHandlerFuncs {
	selecting := func(p *corev1.Pod) {
		for _, k := range ServicesFor(services, p.Namespace, p.Labels) {
			add(k)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { selecting(obj.(*corev1.Pod)) },
		UpdateFunc: func(oldObj, obj any) {
			old, p := oldObj.(*corev1.Pod), obj.(*corev1.Pod)
			labelsChanged, changed := PodChanged(old, p)
			switch {
			case labelsChanged:
				for _, k := range ServicesFor(services, p.Namespace, old.Labels, p.Labels) {
					add(k)
				}
			case changed:
				selecting(p)
			}
		},
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if p, ok := obj.(*corev1.Pod); ok {
				selecting(p)
			}
		},
	}
}
