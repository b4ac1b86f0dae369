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

// CycleState carries data between a plugin's extension points within one
// scheduling cycle. It is written at PreFilter and PreScore, which run
// serially, and only read while Filter and Score run in parallel.
type CycleState struct {
	storage map[StateKey]StateData
	// SkipFilterPlugins and SkipScorePlugins returned Skip at PreFilter
	// or PreScore for this pod.
	SkipFilterPlugins sets.Set[string]
	SkipScorePlugins  sets.Set[string]
}

// NewCycleState returns an empty state.
func NewCycleState() *CycleState {
	return &CycleState{storage: map[StateKey]StateData{}, SkipFilterPlugins: sets.New[string](), SkipScorePlugins: sets.New[string]()}
}

// Read returns the data under key.
func (c *CycleState) Read(key StateKey) (StateData, error) {
	if d, ok := c.storage[key]; ok {
		return d, nil
	}
	return nil, ErrNotFound
}

// Write stores data under key.
func (c *CycleState) Write(key StateKey, data StateData) { c.storage[key] = data }

// Delete removes key.
func (c *CycleState) Delete(key StateKey) { delete(c.storage, key) }

// Clone deep-copies the state, for what-if evaluations.
func (c *CycleState) Clone() *CycleState {
	if c == nil {
		return nil
	}
	out := &CycleState{storage: make(map[StateKey]StateData, len(c.storage)),
		SkipFilterPlugins: c.SkipFilterPlugins.Clone(), SkipScorePlugins: c.SkipScorePlugins.Clone()}
	for k, v := range c.storage {
		if v != nil {
			out.storage[k] = v.Clone()
		}
	}
	return out
}
