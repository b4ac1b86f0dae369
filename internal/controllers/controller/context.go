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
	// NodeEvictionRate is how many nodes per second may have pods evicted.
	NodeEvictionRate float64
	// ClusterCIDR and NodeCIDRMaskSize drive node IPAM.
	ClusterCIDR      string
	NodeCIDRMaskSize int
	// TerminatedPodGCThreshold: terminated pods kept before GC (0 = off).
	TerminatedPodGCThreshold int
}

// DefaultOptions returns upstream's defaults.
func DefaultOptions() Options {
	return Options{
		Workers:                  5,
		NodeMonitorGracePeriod:   40 * time.Second,
		NodeEvictionRate:         0.1,
		ClusterCIDR:              "10.244.0.0/16",
		NodeCIDRMaskSize:         24,
		TerminatedPodGCThreshold: 12500,
	}
}
