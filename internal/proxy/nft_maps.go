package proxy

// Endpoint maps in their shared buckets, and the hairpin pair set.

import (
	"encoding/binary"
	"fmt"
	"net"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
)

// endpointMapSet is a bucket of endpoint maps: an interval map (the
// kernel's rbtree) from a big-endian 32-bit number to address . port.
func endpointMapSet(table *nftables.Table, name string) *nftables.Set {
	return &nftables.Set{Table: table, Name: name, IsMap: true, Interval: true, KeyType: nftables.TypeInteger,
		KeyByteOrder: binaryutil.BigEndian, DataType: endpointType}
}

func bucketName(slot uint32) string { return fmt.Sprintf("endpoints-%d", slot/slotsPerBucket) }
func slotBase(slot uint32) uint32   { return (slot % slotsPerBucket) * numgenRange }

// allocSlot gives an endpoint map a slot, creating its bucket map if
// needed. Slots freed in this batch are reused only after it commits, so
// that their old elements are gone before new ones take their keys.
func (t *Table) allocSlot(name string) error {
	var slot uint32
	if n := len(t.free); n > 0 {
		slot, t.free = t.free[n-1], t.free[:n-1]
	} else {
		slot = t.nextSlot
		t.nextSlot++
	}
	t.slots[name] = slot
	for t.buckets <= slot/slotsPerBucket {
		if err := t.conn.AddSet(endpointMapSet(t.table, bucketName(t.buckets*slotsPerBucket)), nil); err != nil {
			return err
		}
		t.pending++
		t.buckets++
	}
	return nil
}

// mapElements adds (add false: deletes) an endpoint map's elements in its
// slot: each interval as its start, with the data, and its end (one past
// To).
func (t *Table) mapElements(m EndpointMap, add bool) error {
	slot, ok := t.slots[m.Name]
	if !ok {
		return fmt.Errorf("endpoint map %s has no slot", m.Name)
	}
	base := slotBase(slot)
	ivs := m.intervals()
	elems := make([]nftables.SetElement, 0, 2*len(ivs))
	for _, iv := range ivs {
		start := nftables.SetElement{Key: binaryutil.BigEndian.PutUint32(base + iv.From)}
		if add {
			port := make([]byte, 4)
			binary.BigEndian.PutUint16(port, uint16(iv.Endpoint.Port))
			start.Val = append(append([]byte{}, iv.Endpoint.IP.To4()...), port...)
		}
		elems = append(elems, start, nftables.SetElement{Key: binaryutil.BigEndian.PutUint32(base + iv.To + 1), IntervalEnd: true})
	}
	op := t.conn.SetDeleteElements
	if add {
		op = t.conn.SetAddElements
	}
	return t.send(op, endpointMapSet(t.table, bucketName(slot)), elems)
}

func (t *Table) countHairpin(ips []net.IP, delta int) {
	for _, ip := range ips {
		k := string(ip.To4())
		t.hairpin[k] += delta
		if t.hairpin[k] <= 0 {
			delete(t.hairpin, k)
		}
		t.hairpinDirty[k]++
	}
}

// queueHairpin adds the pair elements of the addresses that gained their
// first Service in this batch and deletes those of the addresses that lost
// their last; the returned func records them once committed.
func (t *Table) queueHairpin() (func(), error) {
	var add, del []nftables.SetElement
	changed := map[string]bool{}
	for k := range t.hairpinDirty {
		want := t.hairpin[k] > 0
		if want == t.hairpinIn[k] {
			continue
		}
		changed[k] = want
		e := nftables.SetElement{Key: []byte(k + k)}
		if want {
			add = append(add, e)
		} else {
			del = append(del, e)
		}
	}
	clear(t.hairpinDirty)
	set := t.maps[setHairpin]
	if err := t.send(t.conn.SetDeleteElements, set, del); err != nil {
		return nil, err
	}
	if err := t.send(t.conn.SetAddElements, set, add); err != nil {
		return nil, err
	}
	return func() {
		for k, in := range changed {
			if in {
				t.hairpinIn[k] = true
			} else {
				delete(t.hairpinIn, k)
			}
		}
	}, nil
}
