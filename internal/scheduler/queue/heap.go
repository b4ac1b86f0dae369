package queue

import (
	"container/heap"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// keyedHeap is a heap of queued pods addressable by key.
type keyedHeap struct {
	items []*framework.QueuedPodInfo
	index map[string]int
	less  func(a, b *framework.QueuedPodInfo) bool
}

func newHeap(less func(a, b *framework.QueuedPodInfo) bool) *keyedHeap {
	return &keyedHeap{index: map[string]int{}, less: less}
}

func (h *keyedHeap) Len() int           { return len(h.items) }
func (h *keyedHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *keyedHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.index[key(h.items[i].Pod)] = i
	h.index[key(h.items[j].Pod)] = j
}
func (h *keyedHeap) Push(x any) {
	q := x.(*framework.QueuedPodInfo)
	h.index[key(q.Pod)] = len(h.items)
	h.items = append(h.items, q)
}
func (h *keyedHeap) Pop() any {
	last := len(h.items) - 1
	q := h.items[last]
	h.items[last] = nil
	h.items = h.items[:last]
	delete(h.index, key(q.Pod))
	return q
}

// AddOrUpdate inserts q or replaces the entry with its key.
func (h *keyedHeap) AddOrUpdate(q *framework.QueuedPodInfo) {
	if i, ok := h.index[key(q.Pod)]; ok {
		h.items[i] = q
		heap.Fix(h, i)
		return
	}
	heap.Push(h, q)
}

// Get returns the entry for k.
func (h *keyedHeap) Get(k string) (*framework.QueuedPodInfo, bool) {
	if i, ok := h.index[k]; ok {
		return h.items[i], true
	}
	return nil, false
}

// Delete removes the entry for k.
func (h *keyedHeap) Delete(k string) (*framework.QueuedPodInfo, bool) {
	i, ok := h.index[k]
	if !ok {
		return nil, false
	}
	return heap.Remove(h, i).(*framework.QueuedPodInfo), true
}

// Peek returns the top entry.
func (h *keyedHeap) Peek() *framework.QueuedPodInfo {
	if len(h.items) == 0 {
		return nil
	}
	return h.items[0]
}

// PopTop removes the top entry.
func (h *keyedHeap) PopTop() *framework.QueuedPodInfo {
	if len(h.items) == 0 {
		return nil
	}
	return heap.Pop(h).(*framework.QueuedPodInfo)
}
