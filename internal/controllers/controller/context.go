package controller

import (
	"log/slog"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/record"
)

// Context is what every controller is built from. All access to the
// cluster goes through Client and the shared informers.
type Context struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	// Metadata is a metadata-only client for controllers that walk every
	// resource (garbage collector, namespace deletion).
	Metadata metadata.Interface
	// Recorder returns an event recorder reporting as component.
	Recorder func(component string) record.EventRecorder
	Logger   *slog.Logger
	Options  Options
}

// Options are the tunables of all controllers, with upstream's defaults.
type Options struct {
	// Workers per controller.
	Workers int
	// NodeMonitorGracePeriod: a node whose Lease is older is NotReady/Unknown.
	NodeMonitorGracePeriod time.Duration
	// NodeMonitorPeriod is how often node health is checked.
	NodeMonitorPeriod time.Duration
	// NodeStartupGracePeriod is how long a node that never posted its
	// status may stay without one before it is marked Unknown.
	NodeStartupGracePeriod time.Duration
	// NodeEvictionRate is how many nodes per second may have pods evicted.
	NodeEvictionRate float64
	// SecondaryNodeEvictionRate applies instead in a zone where most
	// nodes are unhealthy (UnhealthyZoneThreshold) and that has more than
	// LargeClusterSizeThreshold nodes; smaller such zones evict nothing.
	SecondaryNodeEvictionRate float64
	LargeClusterSizeThreshold int
	UnhealthyZoneThreshold    float64
	// ClusterCIDR and NodeCIDRMaskSize drive node IPAM. ClusterCIDR may
	// list one IPv4 and one IPv6 range, comma-separated; IPv6 ranges are
	// cut into NodeCIDRMaskSizeIPv6 subnets.
	ClusterCIDR          string
	NodeCIDRMaskSize     int
	NodeCIDRMaskSizeIPv6 int
	// TerminatedPodGCThreshold: terminated pods kept before GC (0 = off).
	TerminatedPodGCThreshold int
	// PodGCPeriod is how often the pod garbage collector runs.
	PodGCPeriod time.Duration
	// OrphanedPodQuarantine is how long a pod bound to a missing node is
	// kept before it is deleted, in case the node appears late.
	OrphanedPodQuarantine time.Duration
	// GCResourceResyncPeriod is how often the garbage collector looks
	// for resources that appeared or went away.
	GCResourceResyncPeriod time.Duration
	// LoadBalancerAddressPool ("CIDR" or "FIRST-LAST", comma-separated)
	// gives LoadBalancer Services addresses; empty uses node addresses.
	LoadBalancerAddressPool string
}

// DefaultOptions returns upstream's defaults.
func DefaultOptions() Options {
	return Options{
		Workers:                   5,
		NodeMonitorGracePeriod:    40 * time.Second,
		NodeMonitorPeriod:         5 * time.Second,
		NodeStartupGracePeriod:    60 * time.Second,
		NodeEvictionRate:          0.1,
		SecondaryNodeEvictionRate: 0.01,
		LargeClusterSizeThreshold: 50,
		UnhealthyZoneThreshold:    0.55,
		ClusterCIDR:               "10.244.0.0/16",
		NodeCIDRMaskSize:          24,
		NodeCIDRMaskSizeIPv6:      64,
		TerminatedPodGCThreshold:  12500,
		PodGCPeriod:               20 * time.Second,
		OrphanedPodQuarantine:     40 * time.Second,
		GCResourceResyncPeriod:    30 * time.Second,
	}
}

// WithDefaults fills the zero durations, rates and sizes of o with
// DefaultOptions' values, so that a partly filled Options (as tests build
// them) never means "check every 0 s". TerminatedPodGCThreshold is left
// alone: 0 there means off.
func (o Options) WithDefaults() Options {
	d := DefaultOptions()
	fill := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	fill(&o.NodeMonitorGracePeriod, d.NodeMonitorGracePeriod)
	fill(&o.NodeMonitorPeriod, d.NodeMonitorPeriod)
	fill(&o.NodeStartupGracePeriod, d.NodeStartupGracePeriod)
	fill(&o.PodGCPeriod, d.PodGCPeriod)
	fill(&o.OrphanedPodQuarantine, d.OrphanedPodQuarantine)
	fill(&o.GCResourceResyncPeriod, d.GCResourceResyncPeriod)
	if o.Workers <= 0 {
		o.Workers = d.Workers
	}
	if o.NodeEvictionRate <= 0 {
		o.NodeEvictionRate = d.NodeEvictionRate
	}
	if o.SecondaryNodeEvictionRate <= 0 {
		o.SecondaryNodeEvictionRate = d.SecondaryNodeEvictionRate
	}
	if o.LargeClusterSizeThreshold <= 0 {
		o.LargeClusterSizeThreshold = d.LargeClusterSizeThreshold
	}
	if o.UnhealthyZoneThreshold <= 0 {
		o.UnhealthyZoneThreshold = d.UnhealthyZoneThreshold
	}
	if o.ClusterCIDR == "" {
		o.ClusterCIDR = d.ClusterCIDR
	}
	if o.NodeCIDRMaskSize <= 0 {
		o.NodeCIDRMaskSize = d.NodeCIDRMaskSize
	}
	if o.NodeCIDRMaskSizeIPv6 <= 0 {
		o.NodeCIDRMaskSizeIPv6 = d.NodeCIDRMaskSizeIPv6
	}
	return o
}
