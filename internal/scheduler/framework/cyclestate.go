package framework

import (
	"errors"

	"k8s.io/apimachinery/pkg/util/sets"
)

// ErrNotFound is returned by Read for a key no plugin wrote.
var ErrNotFound = errors.New("not found")

// StateKey names one plugin's data in a CycleState.
type StateKey string

// StateData is a plugin's per-cycle data; Clone must deep-copy what
// PreFilterExtensions change.
type StateData interface {
	Clone() StateData
}

type stateEntry struct {
	key  StateKey
	data StateData
}

// CycleState carries data between a plugin's extension points within one
// scheduling cycle. It is written at PreFilter and PreScore, which run
// serially, and only read while Filter and Score run in parallel.
//
// Plugins read it once per node, so it is a short slice searched
// linearly: the keys are package constants, whose comparison stops at the
// shared pointer, which beats hashing.
type CycleState struct {
	entries []stateEntry
	// SkipFilterPlugins and SkipScorePlugins returned Skip at PreFilter
	// or PreScore for this pod.
	SkipFilterPlugins sets.Set[string]
	SkipScorePlugins  sets.Set[string]
	// filters are the Filter plugins left after the skips, computed once
	// per cycle by the framework.
	filters []FilterPlugin
}

// NewCycleState returns an empty state.
func NewCycleState() *CycleState {
	return &CycleState{entries: make([]stateEntry, 0, 12), SkipFilterPlugins: sets.New[string](), SkipScorePlugins: sets.New[string]()}
}

// Read returns the data under key.
func (c *CycleState) Read(key StateKey) (StateData, error) {
	for i := range c.entries {
		if c.entries[i].key == key {
			return c.entries[i].data, nil
		}
	}
	return nil, ErrNotFound
}

// Write stores data under key.
func (c *CycleState) Write(key StateKey, data StateData) {
	for i := range c.entries {
		if c.entries[i].key == key {
			c.entries[i].data = data
			return
		}
	}
	c.entries = append(c.entries, stateEntry{key, data})
}

// Delete removes key.
func (c *CycleState) Delete(key StateKey) {
	for i := range c.entries {
		if c.entries[i].key == key {
			c.entries = append(c.entries[:i], c.entries[i+1:]...)
			return
		}
	}
}

// Clone deep-copies the state, for what-if evaluations.
func (c *CycleState) Clone() *CycleState {
	if c == nil {
		return nil
	}
	out := &CycleState{entries: make([]stateEntry, 0, len(c.entries)),
		SkipFilterPlugins: c.SkipFilterPlugins.Clone(), SkipScorePlugins: c.SkipScorePlugins.Clone(),
		filters: c.filters}
	for _, e := range c.entries {
		if e.data != nil {
			out.entries = append(out.entries, stateEntry{e.key, e.data.Clone()})
		}
	}
	return out
}
