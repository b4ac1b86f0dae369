// Package all lists every resource navarch serves, in discovery order. It
// only gathers the per-group lists; the rules live in the group packages.
package all

import (
	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/registry/apps"
	"github.com/navarch/navarch/internal/registry/autoscaling"
	"github.com/navarch/navarch/internal/registry/batch"
	"github.com/navarch/navarch/internal/registry/coordination"
	"github.com/navarch/navarch/internal/registry/core"
	"github.com/navarch/navarch/internal/registry/discovery"
	"github.com/navarch/navarch/internal/registry/events"
	"github.com/navarch/navarch/internal/registry/policy"
	"github.com/navarch/navarch/internal/registry/scheduling"
	storageapi "github.com/navarch/navarch/internal/registry/storage"
)

// Resources returns every served resource; opts configures core/v1.
func Resources(opts core.Options) []*registry.Resource {
	groups := [][]*registry.Resource{
		core.Resources(opts),
		apps.Resources(),
		events.Resources(),
		autoscaling.Resources(),
		batch.Resources(),
		policy.Resources(),
		storageapi.Resources(),
		coordination.Resources(),
		discovery.Resources(),
		scheduling.Resources(),
	}
	var out []*registry.Resource
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}
