package config

import "encoding/json"

// Extension points, as the file names them.
const (
	PreEnqueue = "preEnqueue"
	QueueSort  = "queueSort"
	PreFilter  = "preFilter"
	Filter     = "filter"
	PostFilter = "postFilter"
	PreScore   = "preScore"
	Score      = "score"
	Reserve    = "reserve"
	Permit     = "permit"
	PreBind    = "preBind"
	Bind       = "bind"
	PostBind   = "postBind"
)

// DefaultPlugins is the default profile's multiPoint set, in upstream's
// order and with its score weights. Upstream's volume, image-locality and
// scheduling-gates plugins are absent: navarch has no volume binding or
// image reports, and gated pods are held by the queue itself.
func DefaultPlugins() []Plugin {
	return []Plugin{
		{Name: "PrioritySort"},
		{Name: "NodeUnschedulable"},
		{Name: "NodeName"},
		{Name: "TaintToleration", Weight: 3},
		{Name: "NodeAffinity", Weight: 2},
		{Name: "NodePorts"},
		{Name: "NodeResourcesFit", Weight: 1},
		{Name: "PodTopologySpread", Weight: 2},
		{Name: "InterPodAffinity", Weight: 2},
		{Name: "DefaultPreemption"},
		{Name: "NodeResourcesBalancedAllocation", Weight: 1},
		{Name: "DefaultBinder"},
	}
}

// UpstreamOnlyPlugins exist upstream but not here; disabling one is a
// no-op, so that upstream configuration files load.
var UpstreamOnlyPlugins = map[string]bool{
	"SchedulingGates": true, "ImageLocality": true, "VolumeRestrictions": true, "NodeVolumeLimits": true,
	"VolumeBinding": true, "VolumeZone": true, "DynamicResources": true, "EBSLimits": true,
	"GCEPDLimits": true, "AzureDiskLimits": true, "CinderLimits": true,
}

// Resolved is a profile with its plugin sets merged with the defaults.
type Resolved struct {
	SchedulerName            string
	PercentageOfNodesToScore *int32
	// MultiPoint is the merged multiPoint list.
	MultiPoint []Plugin
	// Points are the sets given per extension point, applied over what
	// MultiPoint contributes to each.
	Points map[string]PluginSet
	// Args are the plugins' arguments.
	Args map[string]json.RawMessage
}

// Resolve merges a profile's plugin sets with the defaults.
func (p Profile) Resolve() Resolved {
	r := Resolved{SchedulerName: p.SchedulerName, PercentageOfNodesToScore: p.PercentageOfNodesToScore,
		Points: map[string]PluginSet{}, Args: map[string]json.RawMessage{}}
	var custom Plugins
	if p.Plugins != nil {
		custom = *p.Plugins
	}
	r.MultiPoint = Merge(DefaultPlugins(), custom.MultiPoint)
	for point, set := range custom.sets() {
		if point != "multiPoint" && (len(set.Enabled) > 0 || len(set.Disabled) > 0) {
			r.Points[point] = set
		}
	}
	for _, pc := range p.PluginConfig {
		r.Args[pc.Name] = pc.Args
	}
	return r
}

// Merge applies a custom set to a default list: disabled defaults go
// ("*" removes all), re-enabled defaults keep their place with the custom
// settings, and other enabled plugins are appended in order.
func Merge(defaults []Plugin, custom PluginSet) []Plugin {
	disabled := map[string]bool{}
	for _, d := range custom.Disabled {
		disabled[d.Name] = true
	}
	enabled := map[string]int{}
	for i, e := range custom.Enabled {
		enabled[e.Name] = i
	}
	used := map[int]bool{}
	var out []Plugin
	for _, d := range defaults {
		if disabled["*"] || disabled[d.Name] {
			continue
		}
		if i, ok := enabled[d.Name]; ok {
			d = custom.Enabled[i]
			used[i] = true
		}
		out = append(out, d)
	}
	for i, e := range custom.Enabled {
		if !used[i] {
			out = append(out, e)
		}
	}
	return out
}

func (p *Plugins) sets() map[string]PluginSet {
	return map[string]PluginSet{
		PreEnqueue: p.PreEnqueue, QueueSort: p.QueueSort, PreFilter: p.PreFilter, Filter: p.Filter,
		PostFilter: p.PostFilter, PreScore: p.PreScore, Score: p.Score, Reserve: p.Reserve, Permit: p.Permit,
		PreBind: p.PreBind, Bind: p.Bind, PostBind: p.PostBind, "multiPoint": p.MultiPoint,
	}
}
