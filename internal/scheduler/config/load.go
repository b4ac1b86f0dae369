package config

import (
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/yaml"
)

// Defaults of the global tunables (upstream's).
const (
	DefaultParallelism              = 16
	DefaultPodInitialBackoffSeconds = 1
	DefaultPodMaxBackoffSeconds     = 10
)

// Load reads and validates a file; an empty path gives the defaults.
func Load(path string) (*Configuration, error) {
	if path == "" {
		return Parse(nil)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scheduler config: %w", err)
	}
	cfg, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("scheduler config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes YAML or JSON strictly (unknown fields are errors), applies
// defaults and validates.
func Parse(data []byte) (*Configuration, error) {
	cfg := &Configuration{}
	if len(data) > 0 {
		if err := yaml.UnmarshalStrict(data, cfg); err != nil {
			return nil, err
		}
		if cfg.APIVersion != APIVersion {
			return nil, fmt.Errorf("apiVersion: want %q, got %q", APIVersion, cfg.APIVersion)
		}
		if cfg.Kind != Kind {
			return nil, fmt.Errorf("kind: want %q, got %q", Kind, cfg.Kind)
		}
	}
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (c *Configuration) setDefaults() {
	c.APIVersion, c.Kind = APIVersion, Kind
	if c.Parallelism == nil {
		c.Parallelism = ptr(int32(DefaultParallelism))
	}
	if c.PercentageOfNodesToScore == nil {
		c.PercentageOfNodesToScore = ptr(int32(0))
	}
	if c.PodInitialBackoffSeconds == nil {
		c.PodInitialBackoffSeconds = ptr(int64(DefaultPodInitialBackoffSeconds))
	}
	if c.PodMaxBackoffSeconds == nil {
		c.PodMaxBackoffSeconds = ptr(int64(DefaultPodMaxBackoffSeconds))
	}
	if len(c.Profiles) == 0 {
		c.Profiles = []Profile{{}}
	}
	for i := range c.Profiles {
		if c.Profiles[i].SchedulerName == "" {
			c.Profiles[i].SchedulerName = DefaultSchedulerName
		}
	}
}

func (c *Configuration) validate() error {
	if *c.Parallelism <= 0 {
		return fmt.Errorf("parallelism: must be greater than 0, got %d", *c.Parallelism)
	}
	if err := checkPercentage("percentageOfNodesToScore", c.PercentageOfNodesToScore); err != nil {
		return err
	}
	if *c.PodInitialBackoffSeconds <= 0 {
		return fmt.Errorf("podInitialBackoffSeconds: must be greater than 0")
	}
	if *c.PodMaxBackoffSeconds < *c.PodInitialBackoffSeconds {
		return fmt.Errorf("podMaxBackoffSeconds: must be at least podInitialBackoffSeconds")
	}
	if le := c.LeaderElection; le != nil {
		for name, v := range map[string]string{"leaseDuration": le.LeaseDuration, "renewDeadline": le.RenewDeadline, "retryPeriod": le.RetryPeriod} {
			if _, err := time.ParseDuration(v); v != "" && err != nil {
				return fmt.Errorf("leaderElection.%s: %w", name, err)
			}
		}
	}
	seen := map[string]bool{}
	for i, p := range c.Profiles {
		if seen[p.SchedulerName] {
			return fmt.Errorf("profiles[%d].schedulerName: Duplicate value: %q", i, p.SchedulerName)
		}
		seen[p.SchedulerName] = true
		if err := p.validate(); err != nil {
			return fmt.Errorf("profiles[%d]: %w", i, err)
		}
	}
	return nil
}

func (p *Profile) validate() error {
	if err := checkPercentage("percentageOfNodesToScore", p.PercentageOfNodesToScore); err != nil {
		return err
	}
	names := map[string]bool{}
	for i, pc := range p.PluginConfig {
		if pc.Name == "" {
			return fmt.Errorf("pluginConfig[%d].name: Required value", i)
		}
		if names[pc.Name] {
			return fmt.Errorf("pluginConfig[%d].name: Duplicate value: %q", i, pc.Name)
		}
		names[pc.Name] = true
	}
	if p.Plugins == nil {
		return nil
	}
	for point, set := range p.Plugins.sets() {
		for i, pl := range set.Enabled {
			if pl.Name == "" {
				return fmt.Errorf("plugins.%s.enabled[%d].name: Required value", point, i)
			}
			if pl.Weight < 0 {
				return fmt.Errorf("plugins.%s.enabled[%d].weight: must not be negative", point, i)
			}
		}
	}
	return nil
}

func checkPercentage(field string, v *int32) error {
	if v != nil && (*v < 0 || *v > 100) {
		return fmt.Errorf("%s: must be in the range [0, 100], got %d", field, *v)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
