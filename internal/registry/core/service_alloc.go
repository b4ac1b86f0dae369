package core

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Claim key prefixes; the store writes one key per held value.
const (
	clusterIPClaimPrefix = "/registry/allocations/clusterips/"
	nodePortClaimPrefix  = "/registry/allocations/nodeports/"
)

// Options configures the allocatable ranges of Services.
type Options struct {
	// ServiceCIDR is the cluster IP range; nil means 10.96.0.0/12.
	ServiceCIDR *net.IPNet
	// NodePortMin and NodePortMax bound node ports; zero means
	// 30000-32767.
	NodePortMin, NodePortMax int
}

func (o Options) cidr() *net.IPNet {
	if o.ServiceCIDR != nil {
		return o.ServiceCIDR
	}
	_, n, _ := net.ParseCIDR("10.96.0.0/12")
	return n
}

func (o Options) portRange() (int, int) {
	if o.NodePortMin == 0 && o.NodePortMax == 0 {
		return 30000, 32767
	}
	return o.NodePortMin, o.NodePortMax
}

// FirstServiceIP returns the first usable address of cidr, which belongs
// to the `kubernetes` Service in the default namespace.
func FirstServiceIP(cidr *net.IPNet) net.IP {
	return offsetIP(cidr.IP.Mask(cidr.Mask), big.NewInt(1))
}

func offsetIP(base net.IP, off *big.Int) net.IP {
	b := base.To4()
	if b == nil {
		b = base.To16()
	}
	n := new(big.Int).Add(new(big.Int).SetBytes(b), off)
	out := make(net.IP, len(b))
	n.FillBytes(out)
	return out
}

// Claims implements registry.Allocator.
func (serviceStrategy) Claims(obj runtime.Object) []string {
	spec := &obj.(*corev1.Service).Spec
	var keys []string
	if spec.Type != corev1.ServiceTypeExternalName {
		for _, ip := range clusterIPsOf(spec) {
			if p := net.ParseIP(ip); p != nil {
				keys = append(keys, clusterIPClaimPrefix+p.String())
			}
		}
	}
	seen := map[int32]bool{}
	for _, p := range nodePortsOf(spec) {
		if !seen[p] {
			seen[p] = true
			keys = append(keys, nodePortClaimPrefix+strconv.Itoa(int(p)))
		}
	}
	return keys
}

func clusterIPsOf(spec *corev1.ServiceSpec) []string {
	if len(spec.ClusterIPs) > 0 {
		return spec.ClusterIPs
	}
	if spec.ClusterIP != "" {
		return []string{spec.ClusterIP}
	}
	return nil
}

func nodePortsOf(spec *corev1.ServiceSpec) []int32 {
	var out []int32
	for _, p := range spec.Ports {
		if p.NodePort != 0 {
			out = append(out, p.NodePort)
		}
	}
	if spec.HealthCheckNodePort != 0 {
		out = append(out, spec.HealthCheckNodePort)
	}
	return out
}

// Allocate implements registry.Allocator.
func (s serviceStrategy) Allocate(obj, old runtime.Object, taken map[string]bool) ([]string, *field.Error) {
	spec := &obj.(*corev1.Service).Spec
	held := map[string]bool{}
	if old != nil {
		for _, k := range s.Claims(old) {
			held[k] = true
		}
	}
	busy := func(key string) bool { return taken[key] && !held[key] }
	if spec.Type != corev1.ServiceTypeExternalName {
		if err := s.allocateClusterIP(spec, busy); err != nil {
			return nil, err
		}
	}
	if err := s.allocateNodePorts(spec, busy); err != nil {
		return nil, err
	}
	return s.Claims(obj), nil
}

func (s serviceStrategy) allocateClusterIP(spec *corev1.ServiceSpec, busy func(string) bool) *field.Error {
	syncClusterIPs(spec)
	p := field.NewPath("spec", "clusterIPs")
	if spec.ClusterIP == corev1.ClusterIPNone {
		return nil
	}
	cidr := s.opts.cidr()
	if spec.ClusterIP != "" {
		ip := net.ParseIP(spec.ClusterIP)
		if ip == nil {
			return field.Invalid(p, spec.ClusterIPs, fmt.Sprintf("failed to allocate IP %s: not a valid IP", spec.ClusterIP))
		}
		if !cidr.Contains(ip) || ip.Equal(cidr.IP.Mask(cidr.Mask)) {
			return field.Invalid(p, spec.ClusterIPs, fmt.Sprintf(
				"failed to allocate IP %s: provided IP is not in the valid range. The range of valid IPs is %s", spec.ClusterIP, cidr))
		}
		if busy(clusterIPClaimPrefix + ip.String()) {
			return field.Invalid(p, spec.ClusterIPs, fmt.Sprintf("failed to allocate IP %s: provided IP is already allocated", spec.ClusterIP))
		}
		return nil
	}
	ip := pickIP(cidr, busy)
	if ip == nil {
		return field.Invalid(p, spec.ClusterIPs, "failed to allocate a serviceIP: range is full")
	}
	spec.ClusterIP, spec.ClusterIPs = ip.String(), []string{ip.String()}
	spec.IPFamilies = []corev1.IPFamily{ipFamilyOf(ip)}
	return nil
}

// pickIP chooses a free address uniformly at random where it can, and
// otherwise scans from a random start. The network address, the first
// address (reserved for the kubernetes Service) and the IPv4 broadcast
// address are never handed out.
func pickIP(cidr *net.IPNet, busy func(string) bool) net.IP {
	ones, bits := cidr.Mask.Size()
	size := new(big.Int).Lsh(big.NewInt(1), uint(bits-ones))
	if bits == 32 {
		size.Sub(size, big.NewInt(1))
	}
	// Usable offsets are 2 .. size-1.
	usable := new(big.Int).Sub(size, big.NewInt(2))
	if usable.Sign() <= 0 {
		return nil
	}
	const maxScan = 1 << 20
	n := usable.Int64()
	if !usable.IsInt64() || n > maxScan {
		n = maxScan
	}
	base := cidr.IP.Mask(cidr.Mask)
	start := rand.Int64N(n)
	for i := int64(0); i < n; i++ {
		ip := offsetIP(base, big.NewInt(2+(start+i)%n))
		if !busy(clusterIPClaimPrefix + ip.String()) {
			return ip
		}
	}
	return nil
}

func (s serviceStrategy) allocateNodePorts(spec *corev1.ServiceSpec, busy func(string) bool) *field.Error {
	wantPorts := spec.Type == corev1.ServiceTypeNodePort ||
		(spec.Type == corev1.ServiceTypeLoadBalancer && (spec.AllocateLoadBalancerNodePorts == nil || *spec.AllocateLoadBalancerNodePorts))
	lo, hi := s.opts.portRange()
	used := map[int32]bool{}
	for i := range spec.Ports {
		p := &spec.Ports[i]
		path := field.NewPath("spec", "ports").Index(i).Child("nodePort")
		if err := s.nodePort(&p.NodePort, wantPorts, lo, hi, used, busy, path); err != nil {
			return err
		}
	}
	wantHC := spec.Type == corev1.ServiceTypeLoadBalancer && spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
	return s.nodePort(&spec.HealthCheckNodePort, wantHC, lo, hi, used, busy, field.NewPath("spec", "healthCheckNodePort"))
}

// nodePort checks a requested port or picks a free one when want is set.
// used holds ports this object already took, which may repeat (the same
// node port serving TCP and UDP).
func (serviceStrategy) nodePort(port *int32, want bool, lo, hi int, used map[int32]bool, busy func(string) bool, path *field.Path) *field.Error {
	if *port != 0 {
		if int(*port) < lo || int(*port) > hi {
			return field.Invalid(path, *port, fmt.Sprintf(
				"provided port is not in the valid range. The range of valid ports is %d-%d", lo, hi))
		}
		if !used[*port] && busy(nodePortClaimPrefix+strconv.Itoa(int(*port))) {
			return field.Invalid(path, *port, "provided port is already allocated")
		}
		used[*port] = true
		return nil
	}
	if !want {
		return nil
	}
	n := hi - lo + 1
	start := rand.IntN(n)
	for i := 0; i < n; i++ {
		cand := int32(lo + (start+i)%n)
		if !used[cand] && !busy(nodePortClaimPrefix+strconv.Itoa(int(cand))) {
			*port = cand
			used[cand] = true
			return nil
		}
	}
	return field.Invalid(path, *port, "failed to allocate a nodePort: range is full")
}
