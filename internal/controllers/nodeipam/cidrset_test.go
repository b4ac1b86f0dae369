package nodeipam

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
)

func TestCIDRSetAllocate(t *testing.T) {
	tests := []struct {
		cluster string
		mask    int
		want    []string
	}{
		{"10.244.0.0/16", 24, []string{"10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"}},
		{"10.0.0.0/30", 31, []string{"10.0.0.0/31", "10.0.0.2/31"}},
		{"10.0.0.0/24", 24, []string{"10.0.0.0/24"}},
		{"10.1.2.3/16", 18, []string{"10.1.0.0/18", "10.1.64.0/18", "10.1.128.0/18", "10.1.192.0/18"}},
		{"fd00:10::/56", 64, []string{"fd00:10::/64", "fd00:10:0:1::/64", "fd00:10:0:2::/64"}},
	}
	for _, tc := range tests {
		t.Run(tc.cluster, func(t *testing.T) {
			s, err := newCIDRSet(netip.MustParsePrefix(tc.cluster), tc.mask)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for range tc.want {
				p, err := s.allocate()
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, p.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("allocated %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCIDRSetExhaustionAndReuse(t *testing.T) {
	s, err := newCIDRSet(netip.MustParsePrefix("10.0.0.0/30"), 31)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s.allocate()
	b, _ := s.allocate()
	if _, err := s.allocate(); !errors.Is(err, ErrFull) {
		t.Fatalf("third allocation: %v, want ErrFull", err)
	}
	if err := s.release(a); err != nil {
		t.Fatal(err)
	}
	c, err := s.allocate()
	if err != nil || c != a {
		t.Fatalf("after releasing %s got %s, %v", a, c, err)
	}
	if b == c {
		t.Fatal("same subnet handed out twice")
	}
}

func TestCIDRSetOccupy(t *testing.T) {
	tests := []struct {
		name    string
		occupy  string
		wantErr bool
		// next is the first allocation afterwards.
		next string
	}{
		{"an allocated subnet is skipped", "10.244.0.0/24", false, "10.244.1.0/24"},
		{"a bigger block covers several", "10.244.0.0/23", false, "10.244.2.0/24"},
		{"a smaller block takes its subnet", "10.244.0.128/25", false, "10.244.1.0/24"},
		{"outside the range", "10.1.0.0/24", true, "10.244.0.0/24"},
		{"other family", "fd00::/64", true, "10.244.0.0/24"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newCIDRSet(netip.MustParsePrefix("10.244.0.0/16"), 24)
			err := s.occupy(netip.MustParsePrefix(tc.occupy))
			if (err != nil) != tc.wantErr {
				t.Fatalf("occupy %s: %v", tc.occupy, err)
			}
			if p, _ := s.allocate(); p.String() != tc.next {
				t.Errorf("next allocation %s, want %s", p, tc.next)
			}
		})
	}
}

func TestNewCIDRSetRejects(t *testing.T) {
	for _, tc := range []struct {
		cluster string
		mask    int
	}{{"10.0.0.0/24", 16}, {"10.0.0.0/8", 33}, {"10.0.0.0/8", 30}} {
		if _, err := newCIDRSet(netip.MustParsePrefix(tc.cluster), tc.mask); err == nil {
			t.Errorf("newCIDRSet(%s, /%d) accepted", tc.cluster, tc.mask)
		}
	}
}

func TestAllocatorDualStack(t *testing.T) {
	a, err := newAllocator("10.244.0.0/16, fd00:10::/56", 24, 64)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.occupy([]string{"10.244.0.0/24", "fd00:10::/64"}); err != nil {
		t.Fatal(err)
	}
	got, err := a.allocate()
	if err != nil || !slices.Equal(got, []string{"10.244.1.0/24", "fd00:10:0:1::/64"}) {
		t.Errorf("allocate = %v, %v", got, err)
	}
	for _, bad := range []string{"10.0.0.0/8,10.1.0.0/16", "nonsense", "10.0.0.0/8,"} {
		if _, err := newAllocator(bad, 24, 64); err == nil {
			t.Errorf("cluster CIDR %q accepted", bad)
		}
	}
}

func TestAllocatorAllOrNothing(t *testing.T) {
	// The IPv6 range has one subnet, the IPv4 one many: once IPv6 is
	// exhausted a failed allocation must not leak an IPv4 subnet.
	a, err := newAllocator("10.0.0.0/16,fd00::/64", 24, 64)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.allocate(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.allocate(); !errors.Is(err, ErrFull) {
		t.Fatalf("second allocation: %v", err)
	}
	if n := a.sets[0].inUse; n != 1 {
		t.Errorf("IPv4 subnets in use after a failed allocation: %d, want 1", n)
	}
}
