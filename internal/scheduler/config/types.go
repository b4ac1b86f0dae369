package config

import "encoding/json"

// APIVersion and Kind of the file.
const (
	APIVersion = "kubescheduler.config.k8s.io/v1"
	Kind       = "KubeSchedulerConfiguration"
	// DefaultSchedulerName is the profile pods get when they name none.
	DefaultSchedulerName = "default-scheduler"
)

// Configuration is the whole file.
type Configuration struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	// Parallelism bounds the goroutines filtering and scoring nodes.
	Parallelism *int32 `json:"parallelism,omitempty"`
	// PercentageOfNodesToScore: 0 (default) adapts to the cluster size,
	// from 50% at 100 nodes down to 5% at 5,625 nodes and more.
	PercentageOfNodesToScore *int32 `json:"percentageOfNodesToScore,omitempty"`
	PodInitialBackoffSeconds *int64 `json:"podInitialBackoffSeconds,omitempty"`
	PodMaxBackoffSeconds     *int64 `json:"podMaxBackoffSeconds,omitempty"`
	// LeaderElection and ClientConnection are accepted for compatibility;
	// navarch's --leader-elect flag decides election.
	LeaderElection   *LeaderElection   `json:"leaderElection,omitempty"`
	ClientConnection *ClientConnection `json:"clientConnection,omitempty"`
	Profiles         []Profile         `json:"profiles,omitempty"`
}

// LeaderElection mirrors upstream's fields.
type LeaderElection struct {
	LeaderElect       *bool  `json:"leaderElect,omitempty"`
	LeaseDuration     string `json:"leaseDuration,omitempty"`
	RenewDeadline     string `json:"renewDeadline,omitempty"`
	RetryPeriod       string `json:"retryPeriod,omitempty"`
	ResourceLock      string `json:"resourceLock,omitempty"`
	ResourceName      string `json:"resourceName,omitempty"`
	ResourceNamespace string `json:"resourceNamespace,omitempty"`
}

// ClientConnection mirrors upstream's fields.
type ClientConnection struct {
	Kubeconfig         string  `json:"kubeconfig,omitempty"`
	AcceptContentTypes string  `json:"acceptContentTypes,omitempty"`
	ContentType        string  `json:"contentType,omitempty"`
	QPS                float32 `json:"qps,omitempty"`
	Burst              int32   `json:"burst,omitempty"`
}

// Profile is one scheduler personality, selected by pods' schedulerName.
type Profile struct {
	SchedulerName            string         `json:"schedulerName,omitempty"`
	PercentageOfNodesToScore *int32         `json:"percentageOfNodesToScore,omitempty"`
	Plugins                  *Plugins       `json:"plugins,omitempty"`
	PluginConfig             []PluginConfig `json:"pluginConfig,omitempty"`
}

// Plugins are the plugin sets per extension point. MultiPoint enables a
// plugin at every extension point it implements.
type Plugins struct {
	PreEnqueue PluginSet `json:"preEnqueue,omitempty"`
	QueueSort  PluginSet `json:"queueSort,omitempty"`
	PreFilter  PluginSet `json:"preFilter,omitempty"`
	Filter     PluginSet `json:"filter,omitempty"`
	PostFilter PluginSet `json:"postFilter,omitempty"`
	PreScore   PluginSet `json:"preScore,omitempty"`
	Score      PluginSet `json:"score,omitempty"`
	Reserve    PluginSet `json:"reserve,omitempty"`
	Permit     PluginSet `json:"permit,omitempty"`
	PreBind    PluginSet `json:"preBind,omitempty"`
	Bind       PluginSet `json:"bind,omitempty"`
	PostBind   PluginSet `json:"postBind,omitempty"`
	MultiPoint PluginSet `json:"multiPoint,omitempty"`
}

// PluginSet enables and disables plugins; "*" in Disabled disables every
// default plugin of that set.
type PluginSet struct {
	Enabled  []Plugin `json:"enabled,omitempty"`
	Disabled []Plugin `json:"disabled,omitempty"`
}

// Plugin names a plugin; Weight applies to Score.
type Plugin struct {
	Name   string `json:"name"`
	Weight int32  `json:"weight,omitempty"`
}

// PluginConfig holds one plugin's arguments, decoded by the plugin.
type PluginConfig struct {
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}
