package apiserver

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// maxErrorBody bounds how much of an agent's error answer is kept.
const maxErrorBody = 64 << 10

// proxyLog streams an agent's log answer, flushing each chunk as it
// arrives so that `kubectl logs -f` follows. Agent errors reach the
// client as Status with the agent's code and message.
func (s *Server) proxyLog(w http.ResponseWriter, r *http.Request, target *url.URL) {
	k := s.cfg.Kubelet
	k.init()
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, target.String(), nil)
	if err != nil {
		writeError(w, r, kubeletError(err))
		return
	}
	resp, err := k.transport.RoundTrip(req)
	if err != nil {
		writeError(w, r, kubeletError(err))
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		writeStatus(w, agentStatus(resp))
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	} else {
		w.Header().Set("Content-Type", "text/plain")
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// agentStatus turns an agent's non-OK answer into the Status the client
// gets: the agent's own Status when it sent one, else its text.
func agentStatus(resp *http.Response) metav1.Status {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var st metav1.Status
	if json.Unmarshal(body, &st) == nil && st.Kind == "Status" && st.Code != 0 {
		return st
	}
	return statusForCode(resp.StatusCode, strings.TrimSpace(string(body)))
}

// statusForCode builds a failure Status with the reason upstream pairs
// with the code.
func statusForCode(code int, msg string) metav1.Status {
	reasons := map[int]metav1.StatusReason{
		http.StatusBadRequest: metav1.StatusReasonBadRequest, http.StatusUnauthorized: metav1.StatusReasonUnauthorized,
		http.StatusForbidden: metav1.StatusReasonForbidden, http.StatusNotFound: metav1.StatusReasonNotFound,
		http.StatusConflict: metav1.StatusReasonConflict, http.StatusServiceUnavailable: metav1.StatusReasonServiceUnavailable,
	}
	return metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure,
		Code: int32(code), Reason: reasons[code], Message: msg}
}

// proxyUpgrade forwards an upgrade request (WebSocket or SPDY) to the
// agent and, once the agent switches protocols, splices the two
// connections so that negotiation and framing stay end to end. An agent
// that refuses the upgrade has its answer passed on as it is.
func (s *Server) proxyUpgrade(w http.ResponseWriter, r *http.Request, target *url.URL) {
	backend, err := s.cfg.Kubelet.dial(r.Context(), target.Host)
	if err != nil {
		writeError(w, r, kubeletError(err))
		return
	}
	defer backend.Close()
	out := upgradeRequest(r, target)
	_ = backend.SetDeadline(time.Now().Add(30 * time.Second))
	if err := out.Write(backend); err != nil {
		writeError(w, r, kubeletError(fmt.Errorf("send upgrade request to %s: %w", target.Host, err)))
		return
	}
	br := bufio.NewReader(backend)
	resp, err := http.ReadResponse(br, out)
	if err != nil {
		writeError(w, r, kubeletError(fmt.Errorf("read upgrade response from %s: %w", target.Host, err)))
		return
	}
	_ = backend.SetDeadline(time.Time{})
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer resp.Body.Close()
		copyHeader(w.Header(), resp.Header)
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, io.LimitReader(resp.Body, maxErrorBody))
		return
	}
	client, cbuf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		writeError(w, r, kubeletError(fmt.Errorf("this connection cannot be upgraded: %w", err)))
		return
	}
	defer client.Close()
	if err := writeSwitching(client, resp); err != nil {
		return
	}
	splice(client, cbuf.Reader, backend, br)
}

// upgradeRequest is r aimed at target: the client's upgrade headers and
// protocol offers, without its credentials (the API server authenticates
// to the agent with its own certificate).
func upgradeRequest(r *http.Request, target *url.URL) *http.Request {
	out := &http.Request{Method: r.Method, URL: target, Host: target.Host, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}}
	copyHeader(out.Header, r.Header)
	out.Header.Del("Authorization")
	for k := range out.Header {
		if strings.HasPrefix(k, "Impersonate-") {
			out.Header.Del(k)
		}
	}
	return out
}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = append([]string(nil), vs...)
	}
}

func writeSwitching(c net.Conn, resp *http.Response) error {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %s\r\n", resp.Status)
	if err := resp.Header.Write(&b); err != nil {
		return err
	}
	b.WriteString("\r\n")
	_, err := io.WriteString(c, b.String())
	return err
}

// splice copies both ways; clientBuf and backendBuf read the connections
// through what their readers already buffered. When the agent ends, everything ends; when the client stops
// sending, the agent is told and may still finish its answer.
func splice(client net.Conn, clientBuf io.Reader, backend net.Conn, backendBuf io.Reader) {
	var once sync.Once
	done := make(chan struct{})
	finish := func() { once.Do(func() { close(done) }) }
	go func() {
		_, _ = io.Copy(backend, clientBuf)
		if cw, ok := backend.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		} else {
			finish()
		}
	}()
	go func() {
		_, _ = io.Copy(client, backendBuf)
		finish()
	}()
	<-done
}
