// Package queuesort is the PrioritySort plugin: the scheduling queue pops
// higher-priority pods first, and pods of equal priority in the order they
// entered the queue. It reads only the queued pods.
package queuesort

import (
	"encoding/json"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// Name of the plugin.
const Name = "PrioritySort"

// PrioritySort orders by priority, then by queue time.
type PrioritySort struct{}

// New builds the plugin; it takes no arguments.
func New(args json.RawMessage, _ framework.Handle) (framework.Plugin, error) {
	return &PrioritySort{}, framework.DecodeArgs(args, &struct{}{})
}

// Name implements framework.Plugin.
func (*PrioritySort) Name() string { return Name }

// Less implements framework.QueueSortPlugin.
func (*PrioritySort) Less(a, b *framework.QueuedPodInfo) bool {
	pa, pb := framework.PodPriority(a.Pod), framework.PodPriority(b.Pod)
	return pa > pb || (pa == pb && a.Timestamp.Before(b.Timestamp))
}
