// Package cache is the scheduler's view of the cluster: nodes with the
// pods bound to them, plus pods the scheduler assumed onto a node before
// the API confirmed the binding, so that the next cycle already counts
// them. Each scheduling cycle reads an incremental Snapshot of it, taken
// once, so that plugins see a consistent picture without locks.
//
// It is fed by informer handlers and by the scheduler's own assumptions;
// it must not call the API.
package cache
