package framework

// EventResource is the kind of object a cluster event is about.
type EventResource string

// The resources whose changes may make an unschedulable pod schedulable.
const (
	PodResource       EventResource = "Pod"
	NodeResource      EventResource = "Node"
	NamespaceResource EventResource = "Namespace"
	ServiceResource   EventResource = "Service"
	WildCardResource  EventResource = "*"
)

// ActionType is a bit set of what happened.
type ActionType int64

// Actions. Update is every Update* bit.
const (
	Add ActionType = 1 << iota
	Delete
	UpdateNodeAllocatable
	UpdateNodeLabel
	UpdateNodeTaint
	UpdateNodeCondition
	UpdateNodeAnnotation
	UpdatePodLabel
	UpdatePodScaleDown
	UpdatePodOther

	Update = UpdateNodeAllocatable | UpdateNodeLabel | UpdateNodeTaint | UpdateNodeCondition |
		UpdateNodeAnnotation | UpdatePodLabel | UpdatePodScaleDown | UpdatePodOther
	All = Add | Delete | Update
)

// ClusterEvent is a change in the cluster.
type ClusterEvent struct {
	Resource   EventResource
	ActionType ActionType
	// Label names the event in logs.
	Label string
}

// Match reports whether a registered event e covers the event o.
func (e ClusterEvent) Match(o ClusterEvent) bool {
	return (e.Resource == WildCardResource || e.Resource == o.Resource) && e.ActionType&o.ActionType != 0
}

// Well-known events.
var (
	// EventUnschedulableTimeout fires for pods left unschedulable too long.
	EventUnschedulableTimeout = ClusterEvent{Resource: WildCardResource, ActionType: All, Label: "UnschedulableTimeout"}
	EventAssignedPodAdd       = ClusterEvent{Resource: PodResource, ActionType: Add, Label: "AssignedPodAdd"}
	EventAssignedPodDelete    = ClusterEvent{Resource: PodResource, ActionType: Delete, Label: "AssignedPodDelete"}
	EventNodeAdd              = ClusterEvent{Resource: NodeResource, ActionType: Add, Label: "NodeAdd"}
	// EventForceActivate moves every unschedulable pod (binding failures
	// that freed resources, tests).
	EventForceActivate = ClusterEvent{Resource: WildCardResource, ActionType: All, Label: "ForceActivate"}
)
