package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/navarch/navarch/internal/gopool"
)

// inProcessIdle is how long an idle request goroutine waits for the next
// request before it exits.
const inProcessIdle = 10 * time.Second

// inProcessConfig is the client config of an in-process component (the
// scheduler, the controller manager). Its requests go through the same
// handler chain as any client's, authentication by the component's own
// certificate included, but are handed to the handler in memory: no TLS,
// no HTTP/2 framing, no socket. Under load that transport was about a
// sixth of the server's CPU for the scheduler's bindings and events alone.
func (s *Server) inProcessConfig(name string) (*rest.Config, error) {
	kc, err := clientcmd.BuildConfigFromFlags("", s.componentKubeconfig(name))
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(kc.CertData, kc.KeyData)
	if err != nil {
		return nil, fmt.Errorf("%s client certificate: %w", name, err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("%s client certificate: %w", name, err)
	}
	state := &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true,
		PeerCertificates: []*x509.Certificate{leaf}}
	return &rest.Config{Host: kc.Host, UserAgent: kc.UserAgent,
		Transport: &inProcess{handler: s.handler, tls: state, workers: gopool.New(inProcessIdle)}}, nil
}

// inProcess is an http.RoundTripper that serves each request with handler
// on a goroutine of its own, streaming the response body through a pipe
// so that watches flow as they would over a connection. The goroutines are
// reused: a request runs deep, and a fresh goroutine would grow its stack
// by copying every time.
type inProcess struct {
	handler http.Handler
	tls     *tls.ConnectionState
	workers *gopool.Pool
}

func (t *inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	sreq := t.serverRequest(req)
	pr, pw := io.Pipe()
	w := &pipeWriter{header: http.Header{}, body: pw, ready: make(chan struct{})}
	// A client that gives up must not leave the handler blocked on a write.
	stop := context.AfterFunc(ctx, func() { pr.CloseWithError(ctx.Err()) })
	t.workers.Go(func() {
		defer stop()
		defer func() {
			if p := recover(); p != nil {
				w.commit(http.StatusInternalServerError)
				pw.CloseWithError(fmt.Errorf("in-process handler panicked: %v", p))
				return
			}
			w.commit(http.StatusOK)
			pw.Close()
		}()
		t.handler.ServeHTTP(w, sreq)
	})
	select {
	case <-w.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	resp := &http.Response{Status: strconv.Itoa(w.code) + " " + http.StatusText(w.code), StatusCode: w.code,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: w.sent, Body: pr, ContentLength: -1, Request: req}
	if n, err := strconv.ParseInt(w.sent.Get("Content-Length"), 10, 64); err == nil {
		resp.ContentLength = n
	}
	return resp, nil
}

// serverRequest is req as a server would have parsed it off the wire.
func (t *inProcess) serverRequest(req *http.Request) *http.Request {
	sreq := req.Clone(req.Context())
	sreq.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	sreq.RequestURI = req.URL.RequestURI()
	sreq.Host = req.URL.Host
	sreq.RemoteAddr = "127.0.0.1:0"
	sreq.Proto, sreq.ProtoMajor, sreq.ProtoMinor = "HTTP/1.1", 1, 1
	sreq.TLS = t.tls
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}
	return sreq
}

// pipeWriter is the handler's ResponseWriter: headers are sent (ready is
// closed) at the first WriteHeader or Write, the body goes into the pipe.
type pipeWriter struct {
	header http.Header
	body   *io.PipeWriter
	once   sync.Once
	ready  chan struct{}
	code   int
	sent   http.Header
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 {
		return
	}
	w.commit(code)
}

func (w *pipeWriter) commit(code int) {
	w.once.Do(func() {
		w.code, w.sent = code, w.header.Clone()
		close(w.ready)
	})
}

func (w *pipeWriter) Write(p []byte) (int, error) {
	w.commit(http.StatusOK)
	return w.body.Write(p)
}

// Flush implements http.Flusher. The pipe hands every write to the reader
// as it happens, so there is nothing to flush.
func (w *pipeWriter) Flush() {}
