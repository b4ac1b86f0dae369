// Package streaming serves the node agent's streaming endpoints, the ones
// the API server proxies pods/log, pods/exec, pods/attach and
// pods/portforward to: /containerLogs, /exec, /attach and /portForward.
//
// It speaks the client protocols kubectl uses (WebSocket channel protocols
// v5/v4 and their older base64 variants, SPDY/3.1 remotecommand, SPDY
// port-forward and SPDY tunnelled over WebSocket) and bridges them to the
// container runtime through CRI: logs are read from the CRI log files named
// by ContainerStatus.LogPath, and exec, attach and port-forward connect as a
// client to the runtime's own streaming server.
//
// It must not do TLS or authentication (the agent's HTTPS server does) and
// must not talk to the API server: pod lookups go through the Pods
// interface the agent provides.
package streaming
