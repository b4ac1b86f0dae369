package streaming

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	restclient "k8s.io/client-go/rest"
	clientremote "k8s.io/client-go/tools/remotecommand"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func (h *handler) exec(w http.ResponseWriter, r *http.Request) {
	h.remoteCommand(w, r, false)
}

func (h *handler) attach(w http.ResponseWriter, r *http.Request) {
	h.remoteCommand(w, r, true)
}

// remoteCommand serves exec and attach: it asks the runtime for a
// streaming URL before upgrading (so that errors reach the client as HTTP
// errors), then bridges the client's session to the runtime's.
func (h *handler) remoteCommand(w http.ResponseWriter, r *http.Request, attach bool) {
	ns, pod, ctr := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	o, err := parseExecOptions(r.URL.Query(), attach)
	if err != nil {
		writeError(w, badRequest(err))
		return
	}
	id, err := h.cfg.Pods.ContainerID(ns, pod, ctr, false)
	if err != nil {
		writeError(w, podsError(err))
		return
	}
	target, err := h.streamURL(r.Context(), id, o, attach)
	if err != nil {
		writeError(w, err)
		return
	}
	var s *session
	if isWebSocket(r) {
		s, err = wsSession(w, r, o)
	} else {
		s, err = spdySession(w, r, o)
	}
	if err != nil {
		if !errors.Is(err, errAnswered) {
			h.log.Debug("stream upgrade failed", "pod", ns+"/"+pod, "err", err)
		}
		return
	}
	err = h.bridge(r.Context(), s, target, o)
	s.finish(err)
}

// streamURL asks the runtime to prepare the exec or attach.
func (h *handler) streamURL(ctx context.Context, id string, o execOptions, attach bool) (*url.URL, error) {
	var raw string
	if attach {
		resp, err := h.cfg.Runtime.Attach(ctx, &runtimeapi.AttachRequest{ContainerId: id,
			Stdin: o.stdin, Stdout: o.stdout, Stderr: o.stderr, Tty: o.tty})
		if err != nil {
			return nil, runtimeError(fmt.Errorf("attach to container %s: %w", id, err))
		}
		raw = resp.Url
	} else {
		resp, err := h.cfg.Runtime.Exec(ctx, &runtimeapi.ExecRequest{ContainerId: id, Cmd: o.command,
			Stdin: o.stdin, Stdout: o.stdout, Stderr: o.stderr, Tty: o.tty})
		if err != nil {
			return nil, runtimeError(fmt.Errorf("exec in container %s: %w", id, err))
		}
		raw = resp.Url
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, runtimeError(fmt.Errorf("runtime returned a bad streaming URL %q: %w", raw, err))
	}
	return u, nil
}

// bridge runs the session against the runtime's streaming server, as its
// SPDY client. It returns when the command has ended (its exit status is
// in the error) or the client has gone away.
func (h *handler) bridge(ctx context.Context, s *session, target *url.URL, o execOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	exec, err := clientremote.NewSPDYExecutor(runtimeRESTConfig(), http.MethodPost, target)
	if err != nil {
		return fmt.Errorf("connect to the runtime's streaming server: %w", err)
	}
	return exec.StreamWithContext(ctx, clientremote.StreamOptions{
		Stdin: s.stdin, Stdout: s.stdout, Stderr: s.stderr, Tty: o.tty, TerminalSizeQueue: s.resize.queue(),
	})
}

// runtimeRESTConfig reaches the runtime's streaming server, which listens
// on loopback without TLS (containerd's default), never through a proxy.
func runtimeRESTConfig() *restclient.Config {
	return &restclient.Config{Proxy: func(*http.Request) (*url.URL, error) { return nil, nil }}
}
