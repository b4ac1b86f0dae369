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
// Services without a selector are left to the mirroring controller
// (NewMirroring), which copies the Endpoints their users write into slices
// managed by endpointslicemirroring-controller.k8s.io and owned by those
// Endpoints, one per address family and port set, unless the Endpoints
// carry endpointslice.kubernetes.io/skip-mirror=true. Both keep only
// a record of their own recent writes, so that they do not act on an
// informer cache that has not caught up with them yet (which would create
// duplicate slices).
package endpointslice
