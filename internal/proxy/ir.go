package proxy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Rule is one nftables rule: statements evaluated left to right.
type Rule []Stmt

// String prints the rule as `nft list` would (close enough to read).
func (r Rule) String() string {
	parts := make([]string, len(r))
	for i, s := range r {
		parts[i] = s.String()
	}
	return strings.Join(parts, " ")
}

// Stmt is one match or action of a rule.
type Stmt interface {
	String() string
	exprs(b *builder) []expr.Any
}

// builder compiles statements; anonymous sets (numgen maps) must be added
// to the batch before the rule that uses them.
type builder struct {
	table   *nftables.Table
	addAnon func(*nftables.Set, []nftables.SetElement) error
	// endpointMap resolves an EndpointMap's name to the kernel map and
	// the numgen offset of its slot.
	endpointMap func(name string) (set string, offset uint32, err error)
	err         error
}

// masqMark is the packet mark bit that asks postrouting to masquerade.
const masqMark = 0x4000

func nativeU32(v uint32) []byte { return binaryutil.NativeEndian.PutUint32(v) }

// Addr matches ip saddr or daddr against a prefix (a /32 for an address).
type Addr struct {
	Src bool
	Not bool
	Net *net.IPNet
}

func (a Addr) field() (string, uint32) {
	if a.Src {
		return "saddr", 12
	}
	return "daddr", 16
}

func (a Addr) String() string {
	f, _ := a.field()
	op := ""
	if a.Not {
		op = "!= "
	}
	ones, _ := a.Net.Mask.Size()
	v := a.Net.IP.String()
	if ones != 32 {
		v = a.Net.String()
	}
	return "ip " + f + " " + op + v
}

func (a Addr) exprs(*builder) []expr.Any {
	_, off := a.field()
	op := expr.CmpOpEq
	if a.Not {
		op = expr.CmpOpNeq
	}
	out := []expr.Any{&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: 4}}
	if ones, _ := a.Net.Mask.Size(); ones != 32 {
		mask := []byte(a.Net.Mask)
		if len(mask) == 16 {
			mask = mask[12:]
		}
		out = append(out, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: []byte{0, 0, 0, 0}})
	}
	return append(out, &expr.Cmp{Op: op, Register: 1, Data: a.Net.IP.Mask(a.Net.Mask).To4()})
}

// HostNet is a /32 for ip.
func HostNet(ip net.IP) *net.IPNet { return &net.IPNet{IP: ip.To4(), Mask: net.CIDRMask(32, 32)} }

// L4Proto matches meta l4proto.
type L4Proto struct{ Proto uint8 }

func (p L4Proto) String() string { return "meta l4proto " + protoName(p.Proto) }
func (p L4Proto) exprs(*builder) []expr.Any {
	return []expr.Any{&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{p.Proto}}}
}

// FibLocal matches "fib saddr|daddr type local".
type FibLocal struct{ Src bool }

func (f FibLocal) String() string {
	if f.Src {
		return "fib saddr type local"
	}
	return "fib daddr type local"
}
func (f FibLocal) exprs(*builder) []expr.Any {
	return []expr.Any{
		&expr.Fib{Register: 1, FlagSADDR: f.Src, FlagDADDR: !f.Src, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: nativeU32(unix.RTN_LOCAL)},
	}
}

// NotLoopback excludes 127.0.0.0/8 destinations (localhost NodePorts
// would need route_localnet).
type NotLoopback struct{}

func (NotLoopback) String() string { return "ip daddr != 127.0.0.0/8" }
func (NotLoopback) exprs(b *builder) []expr.Any {
	_, n, _ := net.ParseCIDR("127.0.0.0/8")
	return Addr{Not: true, Net: n}.exprs(b)
}

// CtNew matches new connections.
type CtNew struct{}

func (CtNew) String() string { return "ct state new" }
func (CtNew) exprs(*builder) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: nativeU32(expr.CtStateBitNEW), Xor: nativeU32(0)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: nativeU32(0)},
	}
}

// MarkUnset matches packets without the masquerade mark.
type MarkUnset struct{}

func (MarkUnset) String() string { return fmt.Sprintf("meta mark & 0x%x == 0", masqMark) }
func (MarkUnset) exprs(*builder) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: nativeU32(masqMark), Xor: nativeU32(0)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: nativeU32(0)},
	}
}

// SetMark sets (Clear: clears) the masquerade mark.
type SetMark struct{ Clear bool }

func (s SetMark) String() string {
	if s.Clear {
		return fmt.Sprintf("meta mark set mark xor 0x%x", masqMark)
	}
	return fmt.Sprintf("meta mark set mark or 0x%x", masqMark)
}
func (s SetMark) exprs(*builder) []expr.Any {
	mask := uint32(^uint32(masqMark))
	if s.Clear {
		mask = 0xffffffff
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: nativeU32(mask), Xor: nativeU32(masqMark)},
		&expr.Meta{Key: expr.MetaKeyMARK, SourceRegister: true, Register: 1},
	}
}

// InSet matches ip saddr against a named set.
type InSet struct{ Set string }

func (s InSet) String() string { return "ip saddr @" + s.Set }
func (s InSet) exprs(*builder) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Lookup{SourceRegister: 1, SetName: s.Set},
	}
}

// InPairSet matches "ip saddr . ip daddr" against a named set of address
// pairs.
type InPairSet struct{ Set string }

func (s InPairSet) String() string { return "ip saddr . ip daddr @" + s.Set }
func (s InPairSet) exprs(*builder) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Payload{DestRegister: 9, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
		&expr.Lookup{SourceRegister: 1, SetName: s.Set},
	}
}

// ctStatusDNAT is conntrack's IPS_DST_NAT status bit.
const ctStatusDNAT = 0x20

// CtDNAT matches connections whose destination was translated.
type CtDNAT struct{}

func (CtDNAT) String() string { return "ct status dnat" }
func (CtDNAT) exprs(*builder) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATUS},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: nativeU32(ctStatusDNAT), Xor: nativeU32(0)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: nativeU32(0)},
	}
}

// UpdateSet adds (or refreshes) ip saddr in a timeout set.
type UpdateSet struct{ Set string }

func (s UpdateSet) String() string { return "update @" + s.Set + " { ip saddr }" }
func (s UpdateSet) exprs(*builder) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Dynset{SrcRegKey: 1, SetName: s.Set, Operation: unix.NFT_DYNSET_OP_UPDATE},
	}
}

// ServiceIPMap dispatches "ip daddr . meta l4proto . th dport" through a
// verdict map.
type ServiceIPMap struct{ Map string }

func (m ServiceIPMap) String() string { return "ip daddr . meta l4proto . th dport vmap @" + m.Map }
func (m ServiceIPMap) exprs(*builder) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 9},
		&expr.Payload{DestRegister: 10, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Lookup{SourceRegister: 1, DestRegister: 0, IsDestRegSet: true, SetName: m.Map},
	}
}

// PortMap dispatches "meta l4proto . th dport" through a verdict map.
type PortMap struct{ Map string }

func (m PortMap) String() string { return "meta l4proto . th dport vmap @" + m.Map }
func (m PortMap) exprs(*builder) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Payload{DestRegister: 9, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Lookup{SourceRegister: 1, DestRegister: 0, IsDestRegSet: true, SetName: m.Map},
	}
}

// Random picks one of Chains uniformly (numgen random) and goes there.
type Random struct{ Chains []string }

func (r Random) String() string {
	parts := make([]string, len(r.Chains))
	for i, c := range r.Chains {
		parts[i] = fmt.Sprintf("%d : goto %s", i, c)
	}
	return fmt.Sprintf("numgen random mod %d vmap { %s }", len(r.Chains), strings.Join(parts, ", "))
}

func (r Random) exprs(b *builder) []expr.Any {
	set := &nftables.Set{Table: b.table, Anonymous: true, Constant: true, IsMap: true,
		KeyType: nftables.TypeInteger, DataType: nftables.TypeVerdict}
	elems := make([]nftables.SetElement, len(r.Chains))
	for i, c := range r.Chains {
		elems[i] = nftables.SetElement{Key: nativeU32(uint32(i)), VerdictData: &expr.Verdict{Kind: expr.VerdictGoto, Chain: c}}
	}
	if err := b.addAnon(set, elems); err != nil && b.err == nil {
		b.err = err
	}
	return []expr.Any{
		&expr.Numgen{Register: 1, Modulus: uint32(len(r.Chains)), Type: unix.NFT_NG_RANDOM},
		&expr.Lookup{SourceRegister: 1, DestRegister: 0, IsDestRegSet: true, SetName: set.Name, SetID: set.ID},
	}
}

// numgenRange is the range of the random number DNATMap draws: endpoint
// maps split it into one interval per endpoint.
const numgenRange = 1 << 16

// DNATMap rewrites the destination to the address and port a random
// number finds in an interval map (an EndpointMap), so that the endpoints
// change by map elements alone, with no rule rewritten. It prints the
// EndpointMap's name; in the kernel the map is a slot of a shared one,
// reached with numgen's offset (see slotsPerBucket).
type DNATMap struct {
	Proto uint8
	Map   string
}

func (d DNATMap) String() string {
	return fmt.Sprintf("meta l4proto %s dnat ip to numgen random mod %d map @%s", protoName(d.Proto), numgenRange, d.Map)
}
func (d DNATMap) exprs(b *builder) []expr.Any {
	set, offset, err := "", uint32(0), errors.New("no endpoint maps here")
	if b.endpointMap != nil {
		set, offset, err = b.endpointMap(d.Map)
	}
	if err != nil && b.err == nil {
		b.err = err
	}
	return append(L4Proto{d.Proto}.exprs(b),
		&expr.Numgen{Register: 1, Modulus: numgenRange, Offset: offset, Type: unix.NFT_NG_RANDOM},
		// Interval keys compare as big-endian bytes.
		&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
		&expr.Lookup{SourceRegister: 1, DestRegister: 1, IsDestRegSet: true, SetName: set},
		// The data is address . port: the address in register 1's first
		// 32 bits, the port in the next (register 9 in 32-bit terms).
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 9, Specified: true},
	)
}

// DNAT rewrites the destination to IP:Port (the protocol is matched first:
// a port rewrite needs one).
type DNAT struct {
	Proto uint8
	IP    net.IP
	Port  uint16
}

func (d DNAT) String() string {
	return fmt.Sprintf("meta l4proto %s dnat to %s", protoName(d.Proto), net.JoinHostPort(d.IP.String(), fmt.Sprint(d.Port)))
}
func (d DNAT) exprs(b *builder) []expr.Any {
	port := make([]byte, 2)
	binary.BigEndian.PutUint16(port, d.Port)
	return append(L4Proto{d.Proto}.exprs(b),
		&expr.Immediate{Register: 1, Data: d.IP.To4()},
		&expr.Immediate{Register: 2, Data: port},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	)
}

// Masquerade source-NATs to the outgoing interface's address.
type Masquerade struct{}

func (Masquerade) String() string            { return "masquerade fully-random" }
func (Masquerade) exprs(*builder) []expr.Any { return []expr.Any{&expr.Masq{FullyRandom: true}} }

// Reject answers with ICMP port unreachable (connection refused).
type Reject struct{}

func (Reject) String() string { return "reject" }
func (Reject) exprs(*builder) []expr.Any {
	return []expr.Any{&expr.Reject{Type: unix.NFT_REJECT_ICMP_UNREACH, Code: 3}}
}

// Verdict ends a rule: jump, goto, return, drop or accept.
type Verdict struct {
	Kind  string
	Chain string
}

// Jump, Goto, Return and Drop build verdicts.
func Jump(c string) Verdict { return Verdict{Kind: "jump", Chain: c} }
func Goto(c string) Verdict { return Verdict{Kind: "goto", Chain: c} }

var (
	Return = Verdict{Kind: "return"}
	Drop   = Verdict{Kind: "drop"}
)

func (v Verdict) String() string {
	if v.Chain != "" {
		return v.Kind + " " + v.Chain
	}
	return v.Kind
}

func (v Verdict) expr() *expr.Verdict {
	kinds := map[string]expr.VerdictKind{"jump": expr.VerdictJump, "goto": expr.VerdictGoto, "return": expr.VerdictReturn,
		"drop": expr.VerdictDrop, "accept": expr.VerdictAccept}
	return &expr.Verdict{Kind: kinds[v.Kind], Chain: v.Chain}
}

func (v Verdict) exprs(*builder) []expr.Any { return []expr.Any{v.expr()} }

func protoName(p uint8) string {
	switch p {
	case unix.IPPROTO_TCP:
		return "tcp"
	case unix.IPPROTO_UDP:
		return "udp"
	case unix.IPPROTO_SCTP:
		return "sctp"
	}
	return fmt.Sprint(p)
}
