// Package config reads the scheduler's configuration file, shaped like
// upstream's KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1):
// global tunables and one or more profiles, each with a schedulerName,
// plugin sets per extension point and plugin arguments. It applies
// upstream's defaults and merge rules for plugin sets. It only parses and
// validates: it does not know what the plugins do.
package config
