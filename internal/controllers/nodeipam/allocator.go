package nodeipam

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
)

// allocator holds one cidrSet per configured family.
type allocator struct {
	mu   sync.Mutex
	sets []*cidrSet
}

// newAllocator parses a comma-separated cluster CIDR list (at most one
// range per family) with the node mask size of each family.
func newAllocator(clusterCIDR string, maskV4, maskV6 int) (*allocator, error) {
	a := &allocator{}
	seen := map[bool]bool{}
	for _, part := range strings.Split(clusterCIDR, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("cluster CIDR %q: %w", part, err)
		}
		v4 := p.Addr().Is4()
		if seen[v4] {
			return nil, fmt.Errorf("cluster CIDR %q lists two ranges of one IP family", clusterCIDR)
		}
		seen[v4] = true
		mask := maskV6
		if v4 {
			mask = maskV4
		}
		s, err := newCIDRSet(p, mask)
		if err != nil {
			return nil, err
		}
		a.sets = append(a.sets, s)
	}
	return a, nil
}

// allocate takes one subnet of every family, all or nothing.
func (a *allocator) allocate() ([]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var got []netip.Prefix
	for _, s := range a.sets {
		p, err := s.allocate()
		if err != nil {
			for i, q := range got {
				_ = a.sets[i].release(q)
			}
			return nil, err
		}
		got = append(got, p)
	}
	out := make([]string, len(got))
	for i, p := range got {
		out[i] = p.String()
	}
	return out, nil
}

// occupy records subnets found on a Node. Subnets outside every range are
// reported and otherwise ignored.
func (a *allocator) occupy(cidrs []string) error { return a.each(cidrs, (*cidrSet).occupy) }

// release returns subnets to the pool.
func (a *allocator) release(cidrs []string) error { return a.each(cidrs, (*cidrSet).release) }

func (a *allocator) each(cidrs []string, fn func(*cidrSet, netip.Prefix) error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []string
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		s := a.setFor(p)
		if s == nil {
			errs = append(errs, fmt.Sprintf("%s is not inside the cluster CIDR", c))
			continue
		}
		if err := fn(s, p); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func (a *allocator) setFor(p netip.Prefix) *cidrSet {
	for _, s := range a.sets {
		if s.cluster.Addr().Is4() == p.Addr().Is4() && s.cluster.Overlaps(p) {
			return s
		}
	}
	return nil
}
