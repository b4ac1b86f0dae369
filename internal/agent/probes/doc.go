// Package probes runs liveness, readiness and startup probes (exec,
// httpGet, tcpSocket and grpc) for running containers on their schedule
// (initialDelaySeconds, periodSeconds, timeoutSeconds, success and
// failure thresholds) and keeps the latest result of each, telling the pod
// worker when one changes.
//
// It must not act on results (restarting a container is the pod worker's
// decision) and must not talk to the API server.
package probes
