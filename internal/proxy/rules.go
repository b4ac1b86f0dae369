package proxy

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"time"
)

// Names of the fixed objects of the table.
const (
	mapServiceIPs          = "service-ips"
	mapServiceNodePorts    = "service-nodeports"
	mapNoEndpointServices  = "no-endpoint-services"
	mapNoEndpointNodePorts = "no-endpoint-nodeports"
	setHairpin             = "hairpin-endpoints"

	chainServices         = "services"
	chainMasquerading     = "masquerading"
	chainEndpointsCheck   = "service-endpoints-check"
	chainNodePortsCheck   = "nodeport-endpoints-check"
	chainReject           = "reject-chain"
	chainNATPrerouting    = "nat-prerouting"
	chainNATOutput        = "nat-output"
	chainNATPostrouting   = "nat-postrouting"
	chainFilterInput      = "filter-input"
	chainFilterForward    = "filter-forward"
	chainFilterOutput     = "filter-output"
	filterPriorityOffset  = -110
	natDestPriority       = -100
	natSourcePriority     = 100
	affinitySetNamePrefix = "aff-"
)

// Chain is a regular chain and its rules.
type Chain struct {
	Name  string
	Rules []Rule
}

// MapKey is a verdict map key: IP . proto . port (IP nil for port maps).
type MapKey struct {
	IP    net.IP
	Proto uint8
	Port  uint16
}

func (k MapKey) String() string {
	s := protoName(k.Proto) + " . " + fmt.Sprint(k.Port)
	if k.IP != nil {
		s = k.IP.String() + " . " + s
	}
	return s
}

// MapElem is one element of one of the fixed verdict maps.
type MapElem struct {
	Map     string
	Key     MapKey
	Verdict Verdict
}

func (e MapElem) id() string { return e.Map + " " + e.Key.String() }

// AffinitySet remembers clients of one endpoint for Timeout.
type AffinitySet struct {
	Name    string
	Timeout time.Duration
}

// EndpointMap is an interval map from DNATMap's random number to the
// endpoints' address . port, the range split evenly among them: changing
// the endpoints changes its elements and nothing else.
type EndpointMap struct {
	Name      string
	Endpoints []Endpoint
}

// mapInterval is one element of an EndpointMap: From through To.
type mapInterval struct {
	From, To uint32
	Endpoint Endpoint
}

func (m EndpointMap) intervals() []mapInterval {
	n := uint64(len(m.Endpoints))
	out := make([]mapInterval, n)
	for i, e := range m.Endpoints {
		from, to := uint64(i)*numgenRange/n, (uint64(i)+1)*numgenRange/n-1
		out[i] = mapInterval{From: uint32(from), To: uint32(to), Endpoint: e}
	}
	return out
}

func (m EndpointMap) String() string {
	parts := make([]string, 0, len(m.Endpoints))
	for _, iv := range m.intervals() {
		parts = append(parts, fmt.Sprintf("%d-%d : %s . %d", iv.From, iv.To, iv.Endpoint.IP, iv.Endpoint.Port))
	}
	return fmt.Sprintf("map %s { %s }", m.Name, strings.Join(parts, ", "))
}

// Objects are the chains, sets and map elements one Service owns.
type Objects struct {
	Chains []Chain
	Sets   []AffinitySet
	Maps   []EndpointMap
	Elems  []MapElem
	// Hairpin are the endpoint addresses that may be on this node: a
	// connection from one of them DNATed to itself is masqueraded (the
	// pair set is shared by all Services and reference-counted).
	Hairpin []net.IP
}

// String lists the objects as nft would, sorted, for tests and debugging.
func (o *Objects) String() string {
	var lines []string
	for _, s := range o.Sets {
		lines = append(lines, fmt.Sprintf("set %s { timeout %s }", s.Name, s.Timeout))
	}
	for _, c := range o.Chains {
		var b strings.Builder
		fmt.Fprintf(&b, "chain %s {", c.Name)
		for _, r := range c.Rules {
			b.WriteString("\n\t" + r.String())
		}
		b.WriteString("\n}")
		lines = append(lines, b.String())
	}
	for _, m := range o.Maps {
		lines = append(lines, m.String())
	}
	for _, e := range o.Elems {
		lines = append(lines, fmt.Sprintf("element %s { %s : %s }", e.Map, e.Key, e.Verdict))
	}
	for _, ip := range o.Hairpin {
		lines = append(lines, fmt.Sprintf("element %s { %s . %s }", setHairpin, ip, ip))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// Generator turns ServicePorts into Objects.
type Generator struct {
	// ClusterCIDR is the pod network; traffic to a ClusterIP from outside
	// it is masqueraded. Nil masquerades all Service traffic.
	ClusterCIDR *net.IPNet
}

// Chain names of a ServicePort.
func serviceChain(sp *ServicePort) string  { return "svc-" + sp.Key() }
func externalChain(sp *ServicePort) string { return "ext-" + sp.Key() }
func localChain(sp *ServicePort) string    { return "local-" + sp.Key() }
func endpointChain(sp *ServicePort, e Endpoint) string {
	return "ep-" + sp.Key() + "__" + e.String()
}
func endpointMap(sp *ServicePort) string      { return "eps-" + sp.Key() }
func localEndpointMap(sp *ServicePort) string { return "local-eps-" + sp.Key() }
func affinitySet(sp *ServicePort, e Endpoint) string {
	return affinitySetNamePrefix + fmt.Sprintf("%ds-", sp.AffinitySeconds) + sp.Key() + "__" + e.String()
}

// Service generates the objects of every port of one Service.
func (g Generator) Service(ports []ServicePort) *Objects {
	o := &Objects{}
	for i := range ports {
		g.port(o, &ports[i])
	}
	seen := map[string]bool{}
	hairpin := o.Hairpin[:0]
	for _, ip := range o.Hairpin {
		if k := string(ip.To4()); !seen[k] {
			seen[k] = true
			hairpin = append(hairpin, ip)
		}
	}
	sort.Slice(hairpin, func(i, j int) bool { return compareIP(hairpin[i], hairpin[j]) < 0 })
	o.Hairpin = hairpin
	return o
}

func (g Generator) port(o *Objects, sp *ServicePort) {
	cluster := sp.clusterEndpoints()
	var local []Endpoint
	if sp.ExternalLocal {
		local = sp.localEndpoints()
	}
	used := union(cluster, local)
	if sp.AffinitySeconds > 0 {
		g.endpointChains(o, sp, used)
	}
	for _, e := range used {
		if !e.Remote {
			o.Hairpin = append(o.Hairpin, e.IP)
		}
	}
	key := MapKey{IP: sp.ClusterIP, Proto: sp.proto(), Port: uint16(sp.Port)}
	if len(cluster) > 0 {
		rules := []Rule{g.masqueradeOutsiders()}
		rules = append(rules, g.balance(o, sp, endpointMap(sp), cluster)...)
		o.Chains = append(o.Chains, Chain{Name: serviceChain(sp), Rules: rules})
		o.Elems = append(o.Elems, MapElem{Map: mapServiceIPs, Key: key, Verdict: Goto(serviceChain(sp))})
	} else {
		o.Elems = append(o.Elems, MapElem{Map: mapNoEndpointServices, Key: key, Verdict: Goto(chainReject)})
	}
	if sp.NodePort == 0 && len(sp.ExternalIPs) == 0 {
		return
	}
	reachable := len(cluster) > 0
	if sp.ExternalLocal {
		reachable = len(local) > 0
	}
	var ipMap, portMap string
	var verdict Verdict
	if reachable {
		g.externalChains(o, sp, len(cluster) > 0, local)
		ipMap, portMap, verdict = mapServiceIPs, mapServiceNodePorts, Goto(externalChain(sp))
	} else {
		// Local policy without local endpoints drops, as upstream;
		// no endpoints at all refuses the connection.
		ipMap, portMap, verdict = mapNoEndpointServices, mapNoEndpointNodePorts, Drop
		if len(usable(sp.Endpoints, false)) == 0 {
			verdict = Goto(chainReject)
		}
	}
	for _, ip := range sp.ExternalIPs {
		o.Elems = append(o.Elems, MapElem{Map: ipMap, Key: MapKey{IP: ip, Proto: sp.proto(), Port: uint16(sp.Port)}, Verdict: verdict})
	}
	if sp.NodePort != 0 {
		o.Elems = append(o.Elems, MapElem{Map: portMap, Key: MapKey{Proto: sp.proto(), Port: uint16(sp.NodePort)}, Verdict: verdict})
	}
}

// masqueradeOutsiders marks traffic to a ClusterIP from outside the pod
// network (node processes, other hosts), whose replies must come back
// through this node.
func (g Generator) masqueradeOutsiders() Rule {
	if g.ClusterCIDR == nil {
		return Rule{SetMark{}}
	}
	return Rule{Addr{Src: true, Not: true, Net: g.ClusterCIDR}, SetMark{}}
}

// balance DNATs to a random endpoint through the endpoint map mapName;
// with session affinity, clients that have it go back to their endpoint's
// chain and the rest to a random endpoint chain.
func (g Generator) balance(o *Objects, sp *ServicePort, mapName string, eps []Endpoint) []Rule {
	if sp.AffinitySeconds == 0 {
		o.Maps = append(o.Maps, EndpointMap{Name: mapName, Endpoints: eps})
		return []Rule{{DNATMap{Proto: sp.proto(), Map: mapName}}}
	}
	var rules []Rule
	for _, e := range eps {
		rules = append(rules, Rule{InSet{Set: affinitySet(sp, e)}, Goto(endpointChain(sp, e))})
	}
	chains := make([]string, len(eps))
	for i, e := range eps {
		chains[i] = endpointChain(sp, e)
	}
	return append(rules, Rule{Random{Chains: chains}})
}

// endpointChains are the chains of a port with session affinity: each
// endpoint's remembers its clients.
func (g Generator) endpointChains(o *Objects, sp *ServicePort, eps []Endpoint) {
	for _, e := range eps {
		set := affinitySet(sp, e)
		o.Sets = append(o.Sets, AffinitySet{Name: set, Timeout: time.Duration(sp.AffinitySeconds) * time.Second})
		rules := []Rule{{UpdateSet{Set: set}}, {DNAT{Proto: sp.proto(), IP: e.IP, Port: uint16(e.Port)}}}
		o.Chains = append(o.Chains, Chain{Name: endpointChain(sp, e), Rules: rules})
	}
}

// externalChains route NodePort and external IP traffic: with the Cluster
// policy to any endpoint, masqueraded so that replies return here; with
// the Local policy to this node's endpoints with the client's address
// kept, except for traffic from pods and from this node, which may go
// anywhere.
func (g Generator) externalChains(o *Objects, sp *ServicePort, hasCluster bool, local []Endpoint) {
	if !sp.ExternalLocal {
		o.Chains = append(o.Chains, Chain{Name: externalChain(sp), Rules: []Rule{{SetMark{}, Goto(serviceChain(sp))}}})
		return
	}
	var rules []Rule
	if hasCluster {
		if g.ClusterCIDR != nil {
			rules = append(rules, Rule{Addr{Src: true, Net: g.ClusterCIDR}, Goto(serviceChain(sp))})
		}
		rules = append(rules, Rule{FibLocal{Src: true}, SetMark{}, Goto(serviceChain(sp))})
	}
	rules = append(rules, Rule{Goto(localChain(sp))})
	o.Chains = append(o.Chains,
		Chain{Name: externalChain(sp), Rules: rules},
		Chain{Name: localChain(sp), Rules: g.balance(o, sp, localEndpointMap(sp), local)})
}

func union(a, b []Endpoint) []Endpoint {
	seen := map[string]bool{}
	var out []Endpoint
	for _, list := range [][]Endpoint{a, b} {
		for _, e := range list {
			if k := e.String(); !seen[k] {
				seen[k] = true
				out = append(out, e)
			}
		}
	}
	return out
}

// BaseChain is a chain attached to a netfilter hook.
type BaseChain struct {
	Chain
	// Type is "nat" or "filter"; Hook one of prerouting, input, forward,
	// output, postrouting.
	Type, Hook string
	Priority   int
}

// Base returns the table's fixed chains: the hooks, the dispatch through
// the verdict maps, masquerading (of marked connections and of hairpin
// ones, a pod reaching itself through a Service) and rejection.
func Base() (hooks []BaseChain, chains []Chain) {
	jumpServices := []Rule{{Jump(chainServices)}}
	hooks = []BaseChain{
		{Chain{chainNATPrerouting, jumpServices}, "nat", "prerouting", natDestPriority},
		{Chain{chainNATOutput, jumpServices}, "nat", "output", natDestPriority},
		{Chain{chainNATPostrouting, []Rule{{Jump(chainMasquerading)}}}, "nat", "postrouting", natSourcePriority},
		{Chain{chainFilterInput, []Rule{{CtNew{}, Jump(chainNodePortsCheck)}, {CtNew{}, Jump(chainEndpointsCheck)}}}, "filter", "input", filterPriorityOffset},
		{Chain{chainFilterForward, []Rule{{CtNew{}, Jump(chainEndpointsCheck)}}}, "filter", "forward", filterPriorityOffset},
		{Chain{chainFilterOutput, []Rule{{CtNew{}, Jump(chainEndpointsCheck)}}}, "filter", "output", filterPriorityOffset},
	}
	chains = []Chain{
		{chainMasquerading, []Rule{
			{CtDNAT{}, InPairSet{Set: setHairpin}, SetMark{}},
			{MarkUnset{}, Return}, {SetMark{Clear: true}}, {Masquerade{}},
		}},
		{chainReject, []Rule{{Reject{}}}},
		{chainEndpointsCheck, []Rule{{ServiceIPMap{Map: mapNoEndpointServices}}}},
		{chainNodePortsCheck, []Rule{{FibLocal{}, NotLoopback{}, PortMap{Map: mapNoEndpointNodePorts}}}},
		{chainServices, []Rule{
			{ServiceIPMap{Map: mapServiceIPs}},
			{FibLocal{}, NotLoopback{}, PortMap{Map: mapServiceNodePorts}},
		}},
	}
	return hooks, chains
}
