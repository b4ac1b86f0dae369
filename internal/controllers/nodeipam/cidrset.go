package nodeipam

import (
	"errors"
	"fmt"
	"math/big"
	"net/netip"
)

// maxSubnets bounds one range's bitmap (upstream allows a 16-bit gap
// between the cluster mask and the node mask).
const maxSubnets = 1 << 16

// ErrFull is returned when every subnet of a range is taken.
var ErrFull = errors.New("no remaining CIDRs in the cluster CIDR")

// cidrSet hands out fixed-size subnets of one range.
type cidrSet struct {
	cluster  netip.Prefix
	maskSize int
	count    int
	used     []bool
	inUse    int
	// next is where the search for a free subnet starts: allocation goes
	// round the range instead of reusing a just-released subnet at once.
	next int
}

func newCIDRSet(cluster netip.Prefix, maskSize int) (*cidrSet, error) {
	cluster = cluster.Masked()
	if maskSize < cluster.Bits() || maskSize > cluster.Addr().BitLen() {
		return nil, fmt.Errorf("node mask size /%d does not fit cluster CIDR %s", maskSize, cluster)
	}
	if maskSize-cluster.Bits() > 16 {
		return nil, fmt.Errorf("cluster CIDR %s with node mask /%d gives more than %d subnets", cluster, maskSize, maxSubnets)
	}
	n := 1 << (maskSize - cluster.Bits())
	return &cidrSet{cluster: cluster, maskSize: maskSize, count: n, used: make([]bool, n)}, nil
}

// subnet returns the i-th subnet.
func (s *cidrSet) subnet(i int) netip.Prefix {
	base := new(big.Int).SetBytes(s.cluster.Addr().AsSlice())
	off := new(big.Int).Lsh(big.NewInt(int64(i)), uint(s.cluster.Addr().BitLen()-s.maskSize))
	b := base.Add(base, off).Bytes()
	raw := make([]byte, s.cluster.Addr().BitLen()/8)
	copy(raw[len(raw)-len(b):], b)
	addr, _ := netip.AddrFromSlice(raw)
	return netip.PrefixFrom(addr, s.maskSize)
}

// index returns the subnets p covers, or an error when p is not inside
// the range.
func (s *cidrSet) indexes(p netip.Prefix) (first, last int, err error) {
	p = p.Masked()
	if p.Addr().Is4() != s.cluster.Addr().Is4() || !s.cluster.Overlaps(p) || p.Bits() < s.cluster.Bits() {
		return 0, 0, fmt.Errorf("%s is not inside the cluster CIDR %s", p, s.cluster)
	}
	shift := uint(s.cluster.Addr().BitLen() - s.maskSize)
	base := new(big.Int).SetBytes(s.cluster.Addr().AsSlice())
	at := new(big.Int).SetBytes(p.Addr().AsSlice())
	first = int(new(big.Int).Rsh(at.Sub(at, base), shift).Int64())
	last = first
	if p.Bits() < s.maskSize {
		// A bigger block than a node subnet covers several of them.
		last = first + 1<<(s.maskSize-p.Bits()) - 1
	}
	return first, last, nil
}

// allocate takes the next free subnet.
func (s *cidrSet) allocate() (netip.Prefix, error) {
	if s.inUse == s.count {
		return netip.Prefix{}, fmt.Errorf("%s: %w", s.cluster, ErrFull)
	}
	for k := range s.count {
		i := (s.next + k) % s.count
		if !s.used[i] {
			s.used[i] = true
			s.inUse++
			s.next = (i + 1) % s.count
			return s.subnet(i), nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("%s: %w", s.cluster, ErrFull)
}

// occupy marks p as taken (an allocation found on a Node).
func (s *cidrSet) occupy(p netip.Prefix) error { return s.mark(p, true) }

// release returns p to the pool.
func (s *cidrSet) release(p netip.Prefix) error { return s.mark(p, false) }

func (s *cidrSet) mark(p netip.Prefix, used bool) error {
	first, last, err := s.indexes(p)
	if err != nil {
		return err
	}
	for i := first; i <= last && i < s.count; i++ {
		if s.used[i] != used {
			s.used[i] = used
			if used {
				s.inUse++
			} else {
				s.inUse--
			}
		}
	}
	return nil
}
