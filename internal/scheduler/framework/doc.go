// Package framework is the scheduler's plugin framework: the extension
// points (QueueSort, PreFilter, Filter, PostFilter, PreScore, Score,
// Reserve, Bind), the Status plugins return, the per-cycle state, the
// NodeInfo and PodInfo views of the cluster that plugins read, and the
// runtime that runs one profile's plugins in order.
//
// Plugins live in their own packages under internal/scheduler/plugins and
// depend only on this package and on client-go. The framework itself does
// no I/O: the scheduler owns the informers, the cache and the API writes,
// and reaches plugins through the Handle it builds.
package framework
