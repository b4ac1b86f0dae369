// Package all lists every resource navarch serves, in discovery order. It
// only gathers the per-group lists; the rules live in the group packages.
package all

import (
	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/registry/apps"
	"github.com/navarch/navarch/internal/registry/batch"
	"github.com/navarch/navarch/internal/registry/core"
)

// Resources returns every served resource; opts configures core/v1.
func Resources(opts core.Options) []*registry.Resource {
	groups := [][]*registry.Resource{
		core.Resources(opts),
		apps.Resources(),
		batch.Resources(),
	}
	var out []*registry.Resource
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}
