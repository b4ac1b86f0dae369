package apps

import "github.com/navarch/navarch/internal/registry"

// Resources returns the apps/v1 resources.
func Resources() []*registry.Resource {
	return []*registry.Resource{
		deploymentResource(),
		replicaSetResource(),
		statefulSetResource(),
		daemonSetResource(),
		controllerRevisionResource(),
	}
}
