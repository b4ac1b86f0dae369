// Package autoscaling holds the strategies and registry entries of
// HorizontalPodAutoscalers in autoscaling/v2 (the stored version) and
// autoscaling/v1 (served by converting to and from v2): defaults,
// validation and the v1<->v2 conversion, which keeps v2-only data in the
// same annotations upstream uses.
//
// It must not do I/O or compute replica counts: that belongs to the HPA
// controller.
package autoscaling
