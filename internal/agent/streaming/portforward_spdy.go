package streaming

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
)

type logger = *slog.Logger

// pfServer pairs the client's data and error streams by request ID and
// forwards each pair through a pair of its own on the runtime's
// connection.
type pfServer struct {
	upstream httpstream.Connection
	log      logger
	nextID   atomic.Int64
	mu       sync.Mutex
	pairs    map[string]*pfPair
	conn     httpstream.Connection
	ready    chan struct{}
}

type pfPair struct {
	id           string
	port         string
	data, errStr httpstream.Stream
	replies      []<-chan struct{}
	started      bool
}

func newPFServer(upstream httpstream.Connection, log logger) *pfServer {
	return &pfServer{upstream: upstream, log: log, pairs: map[string]*pfPair{}, ready: make(chan struct{})}
}

// serve runs until the client or the runtime drops its connection.
func (s *pfServer) serve(conn httpstream.Connection) {
	s.conn = conn
	close(s.ready)
	conn.SetIdleTimeout(streamIdleTimeout)
	select {
	case <-conn.CloseChan():
	case <-s.upstream.CloseChan():
	}
	conn.Close()
}

// newStream is the SPDY stream handler: it validates the headers and,
// once both streams of a request are in, starts forwarding.
func (s *pfServer) newStream(st httpstream.Stream, reply <-chan struct{}) error {
	h := st.Headers()
	port := h.Get(corev1.PortHeader)
	if _, err := parsePort(port); err != nil {
		return fmt.Errorf("stream %d: %w", st.Identifier(), err)
	}
	typ := h.Get(corev1.StreamType)
	id := h.Get(corev1.PortForwardRequestIDHeader)
	if id == "" {
		// Clients before request IDs opened the error stream, then the
		// data stream, two stream IDs apart.
		n := st.Identifier()
		if typ == corev1.StreamTypeData {
			n -= 2
		}
		id = strconv.FormatUint(uint64(n), 10)
	}
	s.mu.Lock()
	p := s.pairs[id]
	if p == nil {
		p = &pfPair{id: id, port: port}
		s.pairs[id] = p
		time.AfterFunc(streamCreationTimeout, func() { s.expire(p) })
	}
	switch typ {
	case corev1.StreamTypeData:
		p.data = st
	case corev1.StreamTypeError:
		p.errStr = st
	default:
		s.mu.Unlock()
		return fmt.Errorf("invalid stream type %q", typ)
	}
	p.replies = append(p.replies, reply)
	complete := p.data != nil && p.errStr != nil && !p.started
	if complete {
		p.started = true
	}
	s.mu.Unlock()
	if complete {
		go s.forward(p)
	}
	return nil
}

// expire drops a request whose second stream never came.
func (s *pfServer) expire(p *pfPair) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.started || s.pairs[p.id] != p {
		return
	}
	delete(s.pairs, p.id)
	if p.errStr != nil {
		fmt.Fprintf(p.errStr, "timed out waiting for the data stream of request %s", p.id)
		p.errStr.Close()
	}
	for _, st := range []httpstream.Stream{p.data, p.errStr} {
		if st != nil {
			st.Reset()
		}
	}
}

// forward copies one connection's bytes both ways, then relays the
// runtime's error message (empty on success) and closes the error stream,
// which is what the client waits for.
func (s *pfServer) forward(p *pfPair) {
	<-s.ready
	for _, r := range p.replies {
		<-r
	}
	defer func() {
		s.mu.Lock()
		delete(s.pairs, p.id)
		s.mu.Unlock()
		s.conn.RemoveStreams(p.data, p.errStr)
	}()
	msg := s.relay(p.port, p.data)
	if msg != "" {
		io.WriteString(p.errStr, msg)
	}
	p.errStr.Close()
}

// relay connects a client data stream to a new stream pair on the
// runtime's connection; it returns the runtime's error message.
func (s *pfServer) relay(port string, client io.ReadWriteCloser) string {
	id := strconv.FormatInt(s.nextID.Add(1), 10)
	h := http.Header{}
	h.Set(corev1.StreamType, corev1.StreamTypeError)
	h.Set(corev1.PortHeader, port)
	h.Set(corev1.PortForwardRequestIDHeader, id)
	upErr, err := s.upstream.CreateStream(h)
	if err != nil {
		return fmt.Sprintf("error creating error stream for port %s: %v", port, err)
	}
	upErr.Close()
	errMsg := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(upErr)
		errMsg <- string(b)
	}()
	h.Set(corev1.StreamType, corev1.StreamTypeData)
	upData, err := s.upstream.CreateStream(h)
	if err != nil {
		s.upstream.RemoveStreams(upErr)
		return fmt.Sprintf("error creating forwarding stream for port %s: %v", port, err)
	}
	defer s.upstream.RemoveStreams(upData, upErr)
	pipe(client, upData)
	select {
	case m := <-errMsg:
		return m
	case <-s.upstream.CloseChan():
		return fmt.Sprintf("lost the runtime's connection while forwarding port %s", port)
	}
}

// pipe copies a and b into each other, half-closing each side as its
// source ends; it returns once b (the runtime) has nothing more to say.
func pipe(client io.ReadWriteCloser, up httpstream.Stream) {
	go func() {
		_, _ = io.Copy(up, client)
		up.Close()
	}()
	_, err := io.Copy(client, up)
	if err != nil && !errors.Is(err, io.EOF) {
		up.Reset()
	}
	client.Close()
}
