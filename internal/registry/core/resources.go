package core

import (
	"github.com/navarch/navarch/internal/registry"
)

// Resources returns the core/v1 resources in discovery order. opts sets
// the Service allocation ranges.
func Resources(opts Options) []*registry.Resource {
	return []*registry.Resource{
		configMapResource(),
		endpointsResource(),
		eventResource(),
		limitRangeResource(),
		namespaceResource(),
		nodeResource(),
		persistentVolumeClaimResource(),
		persistentVolumeResource(),
		podResource(),
		replicationControllerResource(),
		resourceQuotaResource(),
		secretResource(),
		serviceAccountResource(),
		serviceResource(opts),
	}
}
