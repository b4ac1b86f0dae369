package endpointslice

import (
	"cmp"
	"slices"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// plan lists the writes that bring a Service's slices to the desired
// state.
type plan struct {
	create, update, delete []*discoveryv1.EndpointSlice
}

// sliceOf returns a new, unsaved slice of a key.
type sliceOf func(k groupKey, ports []discoveryv1.EndpointPort) *discoveryv1.EndpointSlice

func keyOf(s *discoveryv1.EndpointSlice) groupKey {
	return groupKey{addressType: s.AddressType, ports: portsKey(s.Ports)}
}

// placeholder is the group of a Service without endpoints: one empty
// slice of its primary address type, without ports.
func placeholder(at discoveryv1.AddressType) map[groupKey]*group {
	return map[groupKey]*group{{addressType: at}: {}}
}

// reconcile packs want into slices of at most max endpoints, changing as
// few existing slices as it can: endpoints stay in the slice they are in,
// new ones go first into slices being rewritten anyway, then into new
// full slices, and a last partial batch into an existing slice with room
// rather than a new one.
func reconcile(want map[groupKey]*group, existing []*discoveryv1.EndpointSlice, max int, newSlice sliceOf) plan {
	byKey := map[groupKey][]*discoveryv1.EndpointSlice{}
	for _, s := range existing {
		byKey[keyOf(s)] = append(byKey[keyOf(s)], s)
	}
	var p plan
	for k, ex := range byKey {
		if want[k] == nil {
			p.delete = append(p.delete, ex...)
		}
	}
	keys := make([]groupKey, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b groupKey) int {
		return cmp.Or(cmp.Compare(a.addressType, b.addressType), cmp.Compare(a.ports, b.ports))
	})
	for _, k := range keys {
		ex := byKey[k]
		slices.SortFunc(ex, func(a, b *discoveryv1.EndpointSlice) int { return cmp.Compare(a.Name, b.Name) })
		g := want[k]
		if len(g.endpoints) == 0 {
			p.placeholder(k, g, ex, newSlice)
			continue
		}
		p.pack(k, g, ex, max, newSlice)
	}
	return p
}

// placeholder keeps exactly one empty slice for k.
func (p *plan) placeholder(k groupKey, g *group, ex []*discoveryv1.EndpointSlice, newSlice sliceOf) {
	if len(ex) == 0 {
		p.create = append(p.create, newSlice(k, g.ports))
		return
	}
	if len(ex[0].Endpoints) > 0 {
		s := ex[0].DeepCopy()
		s.Endpoints = nil
		p.update = append(p.update, s)
	}
	p.delete = append(p.delete, ex[1:]...)
}

// slot is an existing slice and what it will hold.
type slot struct {
	orig      *discoveryv1.EndpointSlice
	endpoints []discoveryv1.Endpoint
	changed   bool
}

func (p *plan) pack(k groupKey, g *group, ex []*discoveryv1.EndpointSlice, max int, newSlice sliceOf) {
	want := map[string]discoveryv1.Endpoint{}
	for _, ep := range g.endpoints {
		want[endpointKey(ep)] = ep
	}
	placed := map[string]bool{}
	slots := make([]*slot, 0, len(ex))
	for _, s := range ex {
		sl := &slot{orig: s}
		for _, ep := range s.Endpoints {
			key := endpointKey(ep)
			if d, ok := want[key]; ok && !placed[key] && len(sl.endpoints) < max {
				sl.endpoints = append(sl.endpoints, d)
				placed[key] = true
			}
		}
		sl.changed = !equality.Semantic.DeepEqual(sl.endpoints, s.Endpoints)
		slots = append(slots, sl)
	}
	var rest []discoveryv1.Endpoint
	for _, ep := range g.endpoints {
		if !placed[endpointKey(ep)] {
			rest = append(rest, ep)
		}
	}
	// Slices rewritten anyway take new endpoints first.
	for _, sl := range slots {
		if sl.changed && len(rest) > 0 && len(sl.endpoints) < max {
			n := min(max-len(sl.endpoints), len(rest))
			sl.endpoints, rest = append(sl.endpoints, rest[:n]...), rest[n:]
		}
	}
	for len(rest) >= max {
		p.create = append(p.create, withEndpoints(newSlice(k, g.ports), rest[:max]))
		rest = rest[max:]
	}
	if len(rest) > 0 {
		// The last batch goes into an existing slice with room for it
		// all, the fullest such one, rather than into a new slice.
		var best *slot
		for _, sl := range slots {
			if len(sl.endpoints)+len(rest) <= max && (best == nil || len(sl.endpoints) > len(best.endpoints)) {
				best = sl
			}
		}
		if best != nil {
			best.endpoints, best.changed = append(best.endpoints, rest...), true
		} else {
			p.create = append(p.create, withEndpoints(newSlice(k, g.ports), rest))
		}
	}
	for _, sl := range slots {
		switch {
		case len(sl.endpoints) == 0:
			p.delete = append(p.delete, sl.orig)
		case sl.changed:
			s := sl.orig.DeepCopy()
			s.Endpoints = sl.endpoints
			p.update = append(p.update, s)
		}
	}
}

func withEndpoints(s *discoveryv1.EndpointSlice, eps []discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	s.Endpoints = slices.Clone(eps)
	return s
}
