// Package core holds the strategies (defaults, server-owned fields and
// validation) and the registry entries of the core/v1 resources: pods,
// services, namespaces, nodes, configmaps, secrets and the rest of the legacy
// group. It also exports the PodSpec defaulting and validation that the
// workload groups (apps, batch) reuse for their pod templates.
//
// It must not do I/O or keep state beyond the configuration it is given:
// storage, generic metadata handling and admission that needs other objects
// belong to the store and the API server.
package core
