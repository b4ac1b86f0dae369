package proxy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// maxBatch bounds the messages of one netlink transaction: the kernel
// acknowledges each one, and the acknowledgements must fit in the socket's
// receive buffer. Bigger changes are split at Service boundaries.
const maxBatch = 2000

// slotsPerBucket is how many endpoint maps share one kernel map. The
// kernel finds a set by name by walking the table's list of sets, and an
// interval set rebuilds its lookup array at every commit that changes it:
// one map per Service port would make every change cost O(ports), one map
// for all O(endpoints). So EndpointMap slot s is the range
// (s%slotsPerBucket)<<16 + [0, 65536) of map "endpoints-<s/slotsPerBucket>",
// which DNATMap reaches with numgen's offset.
const slotsPerBucket = 64

// maxElemsPerMessage keeps a set-elements message under netlink's 64 KiB
// attribute limit.
const maxElemsPerMessage = 400

// Table is navarch's nftables table, as last programmed.
type Table struct {
	conn  *nftables.Conn
	table *nftables.Table
	maps  map[string]*nftables.Set
	// applied are the objects in the kernel, per Service.
	applied map[string]*Objects
	// owners tells which Service holds each map element, so that two
	// Services claiming one address and port do not fight.
	owners map[string]string
	// hairpin counts, per endpoint address (4 bytes), the Services that
	// use it; hairpinIn are those in the kernel's pair set, hairpinDirty
	// those whose count changed in the current batch.
	hairpin, hairpinDirty map[string]int
	hairpinIn             map[string]bool
	// slots number the endpoint maps (see slotsPerBucket); free are
	// numbers to reuse, released those freed by the current batch, and
	// buckets the bucket maps created.
	slots    map[string]uint32
	free     []uint32
	released []uint32
	nextSlot uint32
	buckets  uint32
	// pending counts the messages of the current batch.
	pending int
}

// bigBuffers makes room for a full batch and its acknowledgements; as root
// the limits of net.core.[rw]mem_max do not apply.
func bigBuffers(c *netlink.Conn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		for _, opt := range []int{unix.SO_SNDBUFFORCE, unix.SO_RCVBUFFORCE} {
			if e := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt, 32<<20); e != nil && serr == nil {
				serr = e
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		// Without CAP_NET_ADMIN: the usual limits, smaller batches work.
		_ = c.SetReadBuffer(8 << 20)
		_ = c.SetWriteBuffer(8 << 20)
	}
	return nil
}

var (
	ipKeyType   = nftables.MustConcatSetType(nftables.TypeIPAddr, nftables.TypeInetProto, nftables.TypeInetService)
	portKeyType = nftables.MustConcatSetType(nftables.TypeInetProto, nftables.TypeInetService)
	pairKeyType = nftables.MustConcatSetType(nftables.TypeIPAddr, nftables.TypeIPAddr)
	// endpointType is an endpoint map's data: address . port.
	endpointType = nftables.MustConcatSetType(nftables.TypeIPAddr, nftables.TypeInetService)
)

// OpenTable connects to nftables in the network namespace netnsFd (0: the
// process's own). Reset must be called before Apply.
func OpenTable(name string, netnsFd int) (*Table, error) {
	opts := []nftables.ConnOption{nftables.AsLasting(), nftables.WithSockOptions(bigBuffers)}
	if netnsFd > 0 {
		opts = append(opts, nftables.WithNetNSFd(netnsFd))
	}
	conn, err := nftables.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	t := &Table{conn: conn, table: &nftables.Table{Name: name, Family: nftables.TableFamilyIPv4}}
	t.maps = map[string]*nftables.Set{
		mapServiceIPs:          {Table: t.table, Name: mapServiceIPs, IsMap: true, Concatenation: true, KeyType: ipKeyType, DataType: nftables.TypeVerdict},
		mapNoEndpointServices:  {Table: t.table, Name: mapNoEndpointServices, IsMap: true, Concatenation: true, KeyType: ipKeyType, DataType: nftables.TypeVerdict},
		mapServiceNodePorts:    {Table: t.table, Name: mapServiceNodePorts, IsMap: true, Concatenation: true, KeyType: portKeyType, DataType: nftables.TypeVerdict},
		mapNoEndpointNodePorts: {Table: t.table, Name: mapNoEndpointNodePorts, IsMap: true, Concatenation: true, KeyType: portKeyType, DataType: nftables.TypeVerdict},
		setHairpin:             {Table: t.table, Name: setHairpin, Concatenation: true, KeyType: pairKeyType},
	}
	return t, nil
}

// Name is the table's name.
func (t *Table) Name() string { return t.table.Name }

// Close releases the netlink socket (the table stays).
func (t *Table) Close() error { return t.conn.CloseLasting() }

// Delete removes the table and everything in it.
func (t *Table) Delete() error {
	t.conn.AddTable(t.table)
	t.conn.DelTable(t.table)
	t.applied, t.owners = nil, nil
	t.hairpin, t.hairpinDirty, t.hairpinIn = nil, nil, nil
	t.slots, t.free, t.released, t.nextSlot, t.buckets = nil, nil, nil, 0, 0
	return t.conn.Flush()
}

// Reset replaces whatever the table holds with the fixed objects and no
// Service.
func (t *Table) Reset() error {
	if err := t.Delete(); err != nil {
		return fmt.Errorf("delete table %s: %w", t.table.Name, err)
	}
	t.conn.AddTable(t.table)
	names := make([]string, 0, len(t.maps))
	for n := range t.maps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := *t.maps[n]
		if err := t.conn.AddSet(&s, nil); err != nil {
			return err
		}
	}
	hooks, chains := Base()
	for _, c := range chains {
		t.conn.AddChain(t.chain(c.Name))
	}
	for _, h := range hooks {
		t.conn.AddChain(hookChain(t.table, h))
	}
	for _, c := range chains {
		if err := t.addRules(t.chain(c.Name), c.Rules); err != nil {
			return err
		}
	}
	for _, h := range hooks {
		if err := t.addRules(hookChain(t.table, h), h.Rules); err != nil {
			return err
		}
	}
	if err := t.conn.Flush(); err != nil {
		return fmt.Errorf("create table %s: %w", t.table.Name, err)
	}
	t.applied, t.owners, t.pending = map[string]*Objects{}, map[string]string{}, 0
	t.hairpin, t.hairpinDirty, t.hairpinIn = map[string]int{}, map[string]int{}, map[string]bool{}
	t.slots = map[string]uint32{}
	return nil
}

func hookChain(table *nftables.Table, h BaseChain) *nftables.Chain {
	hooks := map[string]*nftables.ChainHook{"prerouting": nftables.ChainHookPrerouting, "input": nftables.ChainHookInput,
		"forward": nftables.ChainHookForward, "output": nftables.ChainHookOutput, "postrouting": nftables.ChainHookPostrouting}
	typ := nftables.ChainTypeFilter
	if h.Type == "nat" {
		typ = nftables.ChainTypeNAT
	}
	accept := nftables.ChainPolicyAccept
	return &nftables.Chain{Name: h.Name, Table: table, Hooknum: hooks[h.Hook], Priority: nftables.ChainPriorityRef(nftables.ChainPriority(h.Priority)),
		Type: typ, Policy: &accept}
}

func (t *Table) chain(name string) *nftables.Chain {
	return &nftables.Chain{Name: name, Table: t.table}
}

func (t *Table) addRules(c *nftables.Chain, rules []Rule) error {
	b := &builder{table: t.table, addAnon: func(s *nftables.Set, e []nftables.SetElement) error {
		t.pending += 2
		return t.conn.AddSet(s, e)
	}, endpointMap: func(name string) (string, uint32, error) {
		slot, ok := t.slots[name]
		if !ok {
			return "", 0, fmt.Errorf("endpoint map %s has no slot", name)
		}
		return bucketName(slot), slotBase(slot), nil
	}}
	for _, r := range rules {
		var exprs []expr.Any
		for _, s := range r {
			exprs = append(exprs, s.exprs(b)...)
		}
		if b.err != nil {
			return b.err
		}
		t.conn.AddRule(&nftables.Rule{Table: t.table, Chain: c, Exprs: exprs})
		t.pending++
	}
	return nil
}

// Apply programs the given Services (nil objects: the Service is gone),
// changing only what differs from what is applied. Each batch is one
// transaction; on error the table may hold some of the changes, and the
// caller should Reset and apply everything.
func (t *Table) Apply(changes map[string]*Objects) error {
	if t.applied == nil {
		return errors.New("nftables table not initialized")
	}
	keys := make([]string, 0, len(changes))
	for k := range changes {
		keys = append(keys, k)
	}
	// Removals first, so that an address a deleted Service held is free
	// for a new one in the same round.
	sort.Slice(keys, func(i, j int) bool {
		if (changes[keys[i]] == nil) != (changes[keys[j]] == nil) {
			return changes[keys[i]] == nil
		}
		return keys[i] < keys[j]
	})
	var batch []string
	done := map[string]*Objects{}
	commit := func() error {
		hairpinDone, err := t.queueHairpin()
		if err != nil {
			return err
		}
		if err := t.conn.Flush(); err != nil {
			t.pending = 0
			return fmt.Errorf("nftables transaction for %d services: %w", len(batch), err)
		}
		hairpinDone()
		t.free, t.released = append(t.free, t.released...), t.released[:0]
		for _, k := range batch {
			t.record(k, done[k])
		}
		batch, t.pending = batch[:0], 0
		return nil
	}
	for _, k := range keys {
		applied, err := t.diff(k, t.applied[k], changes[k])
		if err != nil {
			return err
		}
		done[k] = applied
		batch = append(batch, k)
		if t.pending >= maxBatch {
			if err := commit(); err != nil {
				return err
			}
		}
	}
	return commit()
}

func (t *Table) record(key string, o *Objects) {
	if old := t.applied[key]; old != nil {
		for _, e := range old.Elems {
			if t.owners[e.id()] == key {
				delete(t.owners, e.id())
			}
		}
	}
	if o == nil {
		delete(t.applied, key)
		return
	}
	for _, e := range o.Elems {
		t.owners[e.id()] = key
	}
	t.applied[key] = o
}

// diff queues the messages that turn old into new and returns what will
// be applied (new, less elements another Service owns).
func (t *Table) diff(key string, old, new *Objects) (*Objects, error) {
	if old == nil {
		old = &Objects{}
	}
	var applied *Objects
	if new != nil {
		applied = &Objects{Chains: new.Chains, Sets: new.Sets}
		for _, e := range new.Elems {
			if o, ok := t.owners[e.id()]; ok && o != key {
				continue
			}
			applied.Elems = append(applied.Elems, e)
		}
	} else {
		applied = &Objects{}
	}
	if new != nil {
		applied.Maps, applied.Hairpin = new.Maps, new.Hairpin
	}
	t.countHairpin(old.Hairpin, -1)
	t.countHairpin(applied.Hairpin, 1)
	oldChains, newChains := chainTexts(old), chainTexts(applied)
	oldSets, newSets := setNames(old), setNames(applied)
	oldMaps, newMaps := mapTexts(old), mapTexts(applied)
	for _, m := range applied.Maps {
		text, existed := oldMaps[m.Name]
		switch {
		case !existed:
			if err := t.allocSlot(m.Name); err != nil {
				return nil, err
			}
		case text == newMaps[m.Name]:
			continue
		default:
			// All old elements out, all new ones in: an interval
			// that splits or grows would overlap the old ones.
			for _, om := range old.Maps {
				if om.Name == m.Name {
					if err := t.mapElements(om, false); err != nil {
						return nil, err
					}
				}
			}
		}
		if err := t.mapElements(m, true); err != nil {
			return nil, err
		}
	}
	for _, s := range applied.Sets {
		if !oldSets[s.Name] {
			set := &nftables.Set{Table: t.table, Name: s.Name, KeyType: nftables.TypeIPAddr, HasTimeout: true, Dynamic: true, Timeout: s.Timeout}
			if err := t.conn.AddSet(set, nil); err != nil {
				return nil, err
			}
			t.pending++
		}
	}
	for _, c := range applied.Chains {
		if _, ok := oldChains[c.Name]; !ok {
			t.conn.AddChain(t.chain(c.Name))
			t.pending++
		}
	}
	oldElems, newElems := elemTexts(old), elemTexts(applied)
	var del, add []MapElem
	for _, e := range old.Elems {
		if newElems[e.id()] != e.Verdict.String() {
			del = append(del, e)
		}
	}
	for _, e := range applied.Elems {
		if oldElems[e.id()] != e.Verdict.String() {
			add = append(add, e)
		}
	}
	if err := t.elements(del, t.conn.SetDeleteElements); err != nil {
		return nil, err
	}
	for _, c := range applied.Chains {
		text, existed := oldChains[c.Name]
		if existed && text == newChains[c.Name] {
			continue
		}
		if existed {
			t.conn.FlushChain(t.chain(c.Name))
			t.pending++
		}
		if err := t.addRules(t.chain(c.Name), c.Rules); err != nil {
			return nil, err
		}
	}
	if err := t.elements(add, t.conn.SetAddElements); err != nil {
		return nil, err
	}
	if err := t.removeStale(old, newChains, newSets, newMaps); err != nil {
		return nil, err
	}
	return applied, nil
}

// removeStale deletes the chains and sets old had and new lacks; chains
// are flushed first, since their rules may point at each other.
func (t *Table) removeStale(old *Objects, newChains map[string]string, newSets map[string]bool, newMaps map[string]string) error {
	var gone []string
	for _, c := range old.Chains {
		if _, ok := newChains[c.Name]; !ok {
			gone = append(gone, c.Name)
			t.conn.FlushChain(t.chain(c.Name))
			t.pending++
		}
	}
	for _, n := range gone {
		t.conn.DelChain(t.chain(n))
		t.pending++
	}
	for _, s := range old.Sets {
		if !newSets[s.Name] {
			t.conn.DelSet(&nftables.Set{Table: t.table, Name: s.Name})
			t.pending++
		}
	}
	for _, m := range old.Maps {
		if _, ok := newMaps[m.Name]; !ok {
			if err := t.mapElements(m, false); err != nil {
				return err
			}
			t.released = append(t.released, t.slots[m.Name])
			delete(t.slots, m.Name)
		}
	}
	return nil
}

func (t *Table) elements(elems []MapElem, op func(*nftables.Set, []nftables.SetElement) error) error {
	byMap := map[string][]nftables.SetElement{}
	for _, e := range elems {
		v := e.Verdict.expr()
		byMap[e.Map] = append(byMap[e.Map], nftables.SetElement{Key: keyBytes(e.Key), VerdictData: v})
	}
	for name, list := range byMap {
		if err := t.send(op, t.maps[name], list); err != nil {
			return err
		}
	}
	return nil
}

// send queues elements of one set in messages of at most
// maxElemsPerMessage.
func (t *Table) send(op func(*nftables.Set, []nftables.SetElement) error, set *nftables.Set, elems []nftables.SetElement) error {
	for len(elems) > 0 {
		n := min(len(elems), maxElemsPerMessage)
		if err := op(set, elems[:n]); err != nil {
			return err
		}
		t.pending++
		elems = elems[n:]
	}
	return nil
}

// keyBytes lays a key out as the kernel compares it: each field of a
// concatenation padded to a 32-bit register.
func keyBytes(k MapKey) []byte {
	var b []byte
	if k.IP != nil {
		b = append(b, k.IP.To4()...)
	}
	port := make([]byte, 4)
	binary.BigEndian.PutUint16(port, k.Port)
	return append(append(b, k.Proto, 0, 0, 0), port...)
}

func chainTexts(o *Objects) map[string]string {
	m := make(map[string]string, len(o.Chains))
	for _, c := range o.Chains {
		var s string
		for _, r := range c.Rules {
			s += r.String() + "\n"
		}
		m[c.Name] = s
	}
	return m
}

func mapTexts(o *Objects) map[string]string {
	m := make(map[string]string, len(o.Maps))
	for _, em := range o.Maps {
		m[em.Name] = em.String()
	}
	return m
}

func setNames(o *Objects) map[string]bool {
	m := make(map[string]bool, len(o.Sets))
	for _, s := range o.Sets {
		m[s.Name] = true
	}
	return m
}

func elemTexts(o *Objects) map[string]string {
	m := make(map[string]string, len(o.Elems))
	for _, e := range o.Elems {
		m[e.id()] = e.Verdict.String()
	}
	return m
}
