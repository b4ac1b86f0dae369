package cache

import (
	"slices"
	"sort"
	"strings"
)

// index holds the cached entries by key and in key order. Keeping the order
// costs a memmove of pointers per create or delete, and in exchange LISTs
// need no sort and a namespace LIST touches only that namespace's keys.
type index struct {
	byKey  map[string]*Entry
	sorted []*Entry
}

func newIndex(byKey map[string]*Entry) *index {
	sorted := make([]*Entry, 0, len(byKey))
	for _, e := range byKey {
		sorted = append(sorted, e)
	}
	slices.SortFunc(sorted, func(a, b *Entry) int { return strings.Compare(a.Key, b.Key) })
	return &index{byKey: byKey, sorted: sorted}
}

func (ix *index) get(key string) *Entry { return ix.byKey[key] }

func (ix *index) len() int { return len(ix.sorted) }

// search returns the position of the first key >= key.
func (ix *index) search(key string) int {
	return sort.Search(len(ix.sorted), func(i int) bool { return ix.sorted[i].Key >= key })
}

func (ix *index) put(e *Entry) {
	if _, ok := ix.byKey[e.Key]; ok {
		ix.sorted[ix.search(e.Key)] = e
	} else {
		ix.sorted = slices.Insert(ix.sorted, ix.search(e.Key), e)
	}
	ix.byKey[e.Key] = e
}

func (ix *index) remove(key string) {
	if _, ok := ix.byKey[key]; !ok {
		return
	}
	delete(ix.byKey, key)
	i := ix.search(key)
	ix.sorted = slices.Delete(ix.sorted, i, i+1)
}

// withPrefix returns the entries whose key starts with prefix, in key
// order. The slice aliases the index: read it only under the cache lock.
func (ix *index) withPrefix(prefix string) []*Entry {
	lo := ix.search(prefix)
	hi := lo + sort.Search(len(ix.sorted)-lo, func(i int) bool {
		return !strings.HasPrefix(ix.sorted[lo+i].Key, prefix)
	})
	return ix.sorted[lo:hi]
}
