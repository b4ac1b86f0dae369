package routes

import (
	"fmt"
	"net"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// programMasquerade (re)creates the table with one postrouting rule:
// ip saddr <podCIDR> ip daddr != <clusterCIDR> masquerade.
func programMasquerade(name string, podCIDR, clusterCIDR *net.IPNet) error {
	c, err := nftables.New()
	if err != nil {
		return err
	}
	t := &nftables.Table{Name: name, Family: nftables.TableFamilyIPv4}
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)
	accept := nftables.ChainPolicyAccept
	ch := c.AddChain(&nftables.Chain{Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT, Hooknum: nftables.ChainHookPostrouting,
		Priority: nftables.ChainPriorityNATSource, Policy: &accept})
	exprs := append(prefix(12, podCIDR, expr.CmpOpEq), prefix(16, clusterCIDR, expr.CmpOpNeq)...)
	// Multicast stays as it is, as the bridge plugin's own rule did.
	_, mc, _ := net.ParseCIDR("224.0.0.0/4")
	exprs = append(exprs, prefix(16, mc, expr.CmpOpNeq)...)
	exprs = append(exprs, &expr.Masq{})
	c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: exprs})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables table %s: %w", name, err)
	}
	return nil
}

func prefix(offset uint32, n *net.IPNet, op expr.CmpOp) []expr.Any {
	mask := []byte(n.Mask)
	if len(mask) == 16 {
		mask = mask[12:]
	}
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: op, Register: 1, Data: n.IP.Mask(n.Mask).To4()},
	}
}

func deleteTable(name string) error {
	c, err := nftables.New()
	if err != nil {
		return err
	}
	t := &nftables.Table{Name: name, Family: nftables.TableFamilyIPv4}
	c.AddTable(t)
	c.DelTable(t)
	return c.Flush()
}
