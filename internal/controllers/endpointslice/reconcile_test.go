package endpointslice

import (
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var testKey = groupKey{addressType: discoveryv1.AddressTypeIPv4}

func ep(i int, ready bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{
		Addresses:  []string{fmt.Sprintf("10.0.%d.%d", i/256, i%256)},
		Conditions: discoveryv1.EndpointConditions{Ready: &ready},
		TargetRef:  &corev1.ObjectReference{Kind: "Pod", UID: types.UID(fmt.Sprintf("pod-%04d", i))},
	}
}

func eps(from, to int) []discoveryv1.Endpoint {
	var out []discoveryv1.Endpoint
	for i := from; i < to; i++ {
		out = append(out, ep(i, true))
	}
	return out
}

func existing(name string, e []discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: name}, AddressType: discoveryv1.AddressTypeIPv4, Endpoints: e}
}

var fresh sliceOf = func(k groupKey, ports []discoveryv1.EndpointPort) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{AddressType: k.addressType, Ports: ports}
}

// sizes summarizes a plan: endpoints per created slice, names and sizes
// of updated ones, names of deleted ones.
func sizes(p plan) (created []int, updated []string, deleted []string) {
	for _, s := range p.create {
		created = append(created, len(s.Endpoints))
	}
	for _, s := range p.update {
		updated = append(updated, fmt.Sprintf("%s=%d", s.Name, len(s.Endpoints)))
	}
	for _, s := range p.delete {
		deleted = append(deleted, s.Name)
	}
	slices.Sort(updated)
	slices.Sort(deleted)
	return
}

func TestReconcilePacking(t *testing.T) {
	const max = 100
	changed := eps(0, 100)
	changed[5] = ep(5, false)
	tests := []struct {
		name     string
		want     []discoveryv1.Endpoint
		existing []*discoveryv1.EndpointSlice
		created  []int
		updated  []string
		deleted  []string
	}{
		{"fresh service, 250 endpoints", eps(0, 250), nil, []int{100, 100, 50}, nil, nil},
		{"nothing changed", eps(0, 150), []*discoveryv1.EndpointSlice{existing("a", eps(0, 100)), existing("b", eps(100, 150))}, nil, nil, nil},
		{"one endpoint changed: one slice rewritten", changed, []*discoveryv1.EndpointSlice{existing("a", eps(0, 100))}, nil, []string{"a=100"}, nil},
		{"new endpoints fill the slice with room", eps(0, 130), []*discoveryv1.EndpointSlice{existing("a", eps(0, 100)), existing("b", eps(100, 120))}, nil, []string{"b=30"}, nil},
		{"new endpoints beyond every slice's room get a new one, untouched slices stay", eps(0, 260), []*discoveryv1.EndpointSlice{existing("a", eps(0, 100)), existing("b", eps(100, 190))},
			[]int{70}, nil, nil},
		{"removed endpoints shrink their slice; a slice left empty goes", eps(0, 50), []*discoveryv1.EndpointSlice{existing("a", eps(0, 100)), existing("b", eps(100, 150))},
			nil, []string{"a=50"}, []string{"b"}},
		{"a rewritten slice takes the new endpoints first", append(eps(1, 100), eps(200, 202)...),
			[]*discoveryv1.EndpointSlice{existing("a", eps(0, 100)), existing("b", eps(300, 301))},
			nil, []string{"a=100", "b=1"}, nil},
		{"duplicates across slices are dropped", eps(0, 10), []*discoveryv1.EndpointSlice{existing("a", eps(0, 10)), existing("b", eps(0, 10))},
			nil, nil, []string{"b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := reconcile(map[groupKey]*group{testKey: {endpoints: tc.want}}, tc.existing, max, fresh)
			created, updated, deleted := sizes(p)
			if fmt.Sprint(created) != fmt.Sprint(tc.created) || fmt.Sprint(updated) != fmt.Sprint(tc.updated) || fmt.Sprint(deleted) != fmt.Sprint(tc.deleted) {
				t.Errorf("created %v updated %v deleted %v; want %v %v %v", created, updated, deleted, tc.created, tc.updated, tc.deleted)
			}
			// Whatever the plan, the result holds each endpoint once.
			result := map[string]*discoveryv1.EndpointSlice{}
			for _, s := range tc.existing {
				result[s.Name] = s
			}
			for _, s := range p.update {
				result[s.Name] = s
			}
			for _, s := range p.delete {
				delete(result, s.Name)
			}
			seen := map[string]int{}
			all := slices.Collect(func(yield func(*discoveryv1.EndpointSlice) bool) {
				for _, s := range result {
					yield(s)
				}
				for _, s := range p.create {
					yield(s)
				}
			})
			for _, s := range all {
				if len(s.Endpoints) > max {
					t.Errorf("slice with %d endpoints", len(s.Endpoints))
				}
				for _, e := range s.Endpoints {
					seen[endpointKey(e)]++
				}
			}
			if len(seen) != len(tc.want) {
				t.Errorf("%d distinct endpoints in the result, want %d", len(seen), len(tc.want))
			}
			for k, n := range seen {
				if n != 1 {
					t.Errorf("%s appears %d times", k, n)
				}
			}
		})
	}
}

func TestReconcileGroups(t *testing.T) {
	http := portsKey([]discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(80))}})
	other := groupKey{addressType: discoveryv1.AddressTypeIPv4, ports: http}
	old := existing("old-ports", eps(0, 3))
	// Ports changed: the slices of the old port set go, new ones come.
	p := reconcile(map[groupKey]*group{other: {endpoints: eps(0, 3)}}, []*discoveryv1.EndpointSlice{old}, 100, fresh)
	created, updated, deleted := sizes(p)
	if fmt.Sprint(created) != "[3]" || updated != nil || fmt.Sprint(deleted) != "[old-ports]" {
		t.Errorf("port change: created %v updated %v deleted %v", created, updated, deleted)
	}
}

func TestReconcilePlaceholder(t *testing.T) {
	ph := placeholder(discoveryv1.AddressTypeIPv4)
	tests := []struct {
		name     string
		existing []*discoveryv1.EndpointSlice
		created  []int
		updated  []string
		deleted  []string
	}{
		{"no slices: one empty one", nil, []int{0}, nil, nil},
		{"an empty one is kept", []*discoveryv1.EndpointSlice{existing("a", nil)}, nil, nil, nil},
		{"the last endpoints go: one slice emptied, the others deleted",
			[]*discoveryv1.EndpointSlice{existing("a", eps(0, 2)), existing("b", eps(2, 4))}, nil, []string{"a=0"}, []string{"b"}},
	}
	for _, tc := range tests {
		created, updated, deleted := sizes(reconcile(ph, tc.existing, 100, fresh))
		if fmt.Sprint(created) != fmt.Sprint(tc.created) || fmt.Sprint(updated) != fmt.Sprint(tc.updated) || fmt.Sprint(deleted) != fmt.Sprint(tc.deleted) {
			t.Errorf("%s: created %v updated %v deleted %v", tc.name, created, updated, deleted)
		}
	}
}

func ptr[T any](v T) *T { return &v }
