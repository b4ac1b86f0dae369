package streaming

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/httpstream/spdy"
	"k8s.io/client-go/tools/portforward"
	clientspdy "k8s.io/client-go/transport/spdy"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// portForward serves /portForward in the three ways clients ask for it:
// SPDY (kubectl before 1.31, and its fallback), SPDY tunnelled through a
// WebSocket (kubectl 1.31 and later), and the WebSocket channel protocol
// with the ports in the query. The runtime's streaming server is dialled
// first, so that a pod that cannot be reached is an HTTP error.
func (h *handler) portForward(w http.ResponseWriter, r *http.Request) {
	ns, pod := r.PathValue("namespace"), r.PathValue("pod")
	ports, err := parsePorts(r.URL.Query())
	if err != nil {
		writeError(w, badRequest(err))
		return
	}
	tunnel := isWebSocket(r) && offers(r, protoTunnelPF)
	if isWebSocket(r) && !tunnel && len(ports) == 0 {
		writeError(w, badRequest(errors.New("query parameter \"ports\" is required")))
		return
	}
	id, err := h.cfg.Pods.SandboxID(ns, pod)
	if err != nil {
		writeError(w, podsError(err))
		return
	}
	upstream, err := h.dialPortForward(r.Context(), id, ports)
	if err != nil {
		writeError(w, err)
		return
	}
	defer upstream.Close()
	log := h.log.With("pod", ns+"/"+pod)
	switch {
	case tunnel:
		h.tunnelPortForward(w, r, upstream, log)
	case isWebSocket(r):
		h.wsPortForward(w, r, upstream, ports, log)
	default:
		h.spdyPortForward(w, r, upstream, log)
	}
}

// dialPortForward asks the runtime for a port-forward URL and connects to
// it as a SPDY client.
func (h *handler) dialPortForward(ctx context.Context, sandbox string, ports []int32) (httpstream.Connection, error) {
	resp, err := h.cfg.Runtime.PortForward(ctx, &runtimeapi.PortForwardRequest{PodSandboxId: sandbox, Port: ports})
	if err != nil {
		return nil, runtimeError(fmt.Errorf("port forward to sandbox %s: %w", sandbox, err))
	}
	u, err := url.Parse(resp.Url)
	if err != nil {
		return nil, runtimeError(fmt.Errorf("runtime returned a bad streaming URL %q: %w", resp.Url, err))
	}
	rt, upgrader, err := clientspdy.RoundTripperFor(runtimeRESTConfig())
	if err != nil {
		return nil, runtimeError(err)
	}
	conn, _, err := clientspdy.NewDialer(upgrader, &http.Client{Transport: rt}, http.MethodPost, u).Dial(portforward.PortForwardProtocolV1Name)
	if err != nil {
		return nil, runtimeError(fmt.Errorf("connect to the runtime's port-forward server: %w", err))
	}
	return conn, nil
}

func (h *handler) spdyPortForward(w http.ResponseWriter, r *http.Request, upstream httpstream.Connection, log logger) {
	if _, err := httpstream.Handshake(r, w, []string{portforward.PortForwardProtocolV1Name}); err != nil {
		return
	}
	pf := newPFServer(upstream, log)
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, pf.newStream)
	if conn == nil {
		return
	}
	pf.serve(conn)
}

// tunnelPortForward runs the SPDY port-forward protocol inside a
// WebSocket: each binary message carries a piece of the SPDY byte stream.
func (h *handler) tunnelPortForward(w http.ResponseWriter, r *http.Request, upstream httpstream.Connection, log logger) {
	ws, err := upgradeWS(w, r, wsProtocol{name: protoTunnelPF})
	if err != nil {
		return
	}
	tconn := portforward.NewTunnelingConnection("server", ws)
	defer tconn.Close()
	pf := newPFServer(upstream, log)
	conn, err := spdy.NewServerConnection(tconn, pf.newStream)
	if err != nil {
		log.Debug("spdy over websocket", "err", err)
		return
	}
	pf.serve(conn)
}
