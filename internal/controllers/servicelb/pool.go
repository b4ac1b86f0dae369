package servicelb

import (
	"encoding/binary"
	"fmt"
	"net"
	"strings"
)

// Pool is a set of IPv4 addresses handed to Services.
type Pool struct{ ranges [][2]uint32 }

// ParsePool reads "CIDR" or "FIRST-LAST" items, comma-separated. A CIDR's
// network and broadcast addresses are left out (/31 and /32 excepted).
func ParsePool(s string) (*Pool, error) {
	p := &Pool{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if a, b, ok := strings.Cut(item, "-"); ok {
			lo, hi := net.ParseIP(strings.TrimSpace(a)).To4(), net.ParseIP(strings.TrimSpace(b)).To4()
			if lo == nil || hi == nil || u32(lo) > u32(hi) {
				return nil, fmt.Errorf("address pool %q: want FIRST-LAST IPv4 addresses", item)
			}
			p.ranges = append(p.ranges, [2]uint32{u32(lo), u32(hi)})
			continue
		}
		_, n, err := net.ParseCIDR(item)
		if err != nil || n.IP.To4() == nil {
			return nil, fmt.Errorf("address pool %q: want an IPv4 CIDR or FIRST-LAST", item)
		}
		ones, bits := n.Mask.Size()
		lo := u32(n.IP.To4())
		hi := lo + (1 << uint(bits-ones)) - 1
		if bits-ones >= 2 {
			lo, hi = lo+1, hi-1
		}
		p.ranges = append(p.ranges, [2]uint32{lo, hi})
	}
	if len(p.ranges) == 0 {
		return nil, fmt.Errorf("address pool %q is empty", s)
	}
	return p, nil
}

func u32(ip net.IP) uint32 { return binary.BigEndian.Uint32(ip.To4()) }

func ipOf(v uint32) net.IP {
	b := make(net.IP, 4)
	binary.BigEndian.PutUint32(b, v)
	return b
}

// Contains reports whether ip is in the pool.
func (p *Pool) Contains(ip net.IP) bool {
	if ip.To4() == nil {
		return false
	}
	v := u32(ip)
	for _, r := range p.ranges {
		if v >= r[0] && v <= r[1] {
			return true
		}
	}
	return false
}

// Next returns the lowest address not in used, or nil when all are.
func (p *Pool) Next(used map[string]bool) net.IP {
	for _, r := range p.ranges {
		for v := r[0]; ; v++ {
			if ip := ipOf(v); !used[ip.String()] {
				return ip
			}
			if v == r[1] {
				break
			}
		}
	}
	return nil
}
