// Package endpointslice is the EndpointSlice controller: for every Service
// with a selector it keeps discovery.k8s.io/v1 EndpointSlices (labels
// kubernetes.io/service-name and endpointslice.kubernetes.io/managed-by=
// endpointslice-controller.k8s.io, owned by the Service) listing the
// selected pods with their ready/serving/terminating conditions, named
// target ports resolved per pod, targetRef, nodeName, zone and hostname.
// Endpoints sharing a port set share slices of at most 100 endpoints; an
// update changes as few slices as it can, and a Service with no endpoints
// keeps one empty placeholder slice, as upstream does.
//
// Services without a selector are left alone. The controller keeps only
// a record of its own recent writes, so that it does not act on an
// informer cache that has not caught up with them yet (which would create
// duplicate slices).
package endpointslice
