// Package apps holds the strategies and registry entries of the apps/v1
// resources: deployments, replicasets, statefulsets, daemonsets and
// controllerrevisions. A strategy applies the upstream apps/v1 defaults,
// sets server-owned fields and validates objects, reusing the core package
// for pod templates.
//
// It must not do I/O, keep state or implement controller behaviour (rolling
// out, scaling, revision history): that belongs to the controllers.
package apps
