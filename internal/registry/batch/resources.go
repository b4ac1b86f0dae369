package batch

import "github.com/navarch/navarch/internal/registry"

// Resources returns the batch/v1 resources.
func Resources() []*registry.Resource {
	return []*registry.Resource{jobResource(), cronJobResource()}
}
