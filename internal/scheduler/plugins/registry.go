// Package plugins assembles the in-tree plugin registry. Each plugin lives
// in its own subpackage and depends only on the framework and client-go.
package plugins

import (
	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/plugins/balancedallocation"
	"github.com/navarch/navarch/internal/scheduler/plugins/defaultbinder"
	"github.com/navarch/navarch/internal/scheduler/plugins/defaultpreemption"
	"github.com/navarch/navarch/internal/scheduler/plugins/interpodaffinity"
	"github.com/navarch/navarch/internal/scheduler/plugins/nodeaffinity"
	"github.com/navarch/navarch/internal/scheduler/plugins/nodename"
	"github.com/navarch/navarch/internal/scheduler/plugins/nodeports"
	"github.com/navarch/navarch/internal/scheduler/plugins/noderesources"
	"github.com/navarch/navarch/internal/scheduler/plugins/nodeunschedulable"
	"github.com/navarch/navarch/internal/scheduler/plugins/podtopologyspread"
	"github.com/navarch/navarch/internal/scheduler/plugins/queuesort"
	"github.com/navarch/navarch/internal/scheduler/plugins/tainttoleration"
)

// NewRegistry returns every in-tree plugin by name.
func NewRegistry() framework.Registry {
	return framework.Registry{
		queuesort.Name:          queuesort.New,
		nodeunschedulable.Name:  nodeunschedulable.New,
		nodename.Name:           nodename.New,
		tainttoleration.Name:    tainttoleration.New,
		nodeaffinity.Name:       nodeaffinity.New,
		nodeports.Name:          nodeports.New,
		noderesources.Name:      noderesources.New,
		podtopologyspread.Name:  podtopologyspread.New,
		interpodaffinity.Name:   interpodaffinity.New,
		defaultpreemption.Name:  defaultpreemption.New,
		balancedallocation.Name: balancedallocation.New,
		defaultbinder.Name:      defaultbinder.New,
	}
}
