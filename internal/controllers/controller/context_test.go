package controller

import (
	"testing"
	"time"
)

func TestOptionsWithDefaults(t *testing.T) {
	if got, want := (Options{}).WithDefaults(), DefaultOptions(); got != (func() Options { want.TerminatedPodGCThreshold = 0; return want })() {
		t.Errorf("zero Options filled to %+v, want defaults with GC threshold 0", got)
	}
	set := Options{Workers: 2, NodeMonitorGracePeriod: time.Second, ClusterCIDR: "10.0.0.0/8", TerminatedPodGCThreshold: 7}
	got := set.WithDefaults()
	if got.Workers != 2 || got.NodeMonitorGracePeriod != time.Second || got.ClusterCIDR != "10.0.0.0/8" || got.TerminatedPodGCThreshold != 7 {
		t.Errorf("set fields overwritten: %+v", got)
	}
	if got.NodeMonitorPeriod != DefaultOptions().NodeMonitorPeriod {
		t.Errorf("unset NodeMonitorPeriod = %v", got.NodeMonitorPeriod)
	}
}
