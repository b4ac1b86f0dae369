package streaming

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/httpstream/spdy"
	"k8s.io/apimachinery/pkg/util/remotecommand"
)

const (
	// streamCreationTimeout bounds how long a SPDY client may take to open
	// the streams it asked for.
	streamCreationTimeout = remotecommand.DefaultStreamCreationTimeout
	// streamIdleTimeout closes a SPDY session nobody uses, as the
	// kubelet's default does.
	streamIdleTimeout = 4 * time.Hour
)

// spdyExecProtocols are the SPDY remotecommand versions served, newest
// first; v5 differs from v4 only over WebSocket.
var spdyExecProtocols = []string{
	remotecommand.StreamProtocolV4Name, remotecommand.StreamProtocolV3Name,
	remotecommand.StreamProtocolV2Name, remotecommand.StreamProtocolV1Name,
}

// errAnswered: the upgrade failed and the client already has its answer.
var errAnswered = errors.New("upgrade failed")

type newStream struct {
	stream httpstream.Stream
	reply  <-chan struct{}
}

// spdySession negotiates a remotecommand version and upgrades to SPDY,
// then waits for the streams the options call for.
func spdySession(w http.ResponseWriter, r *http.Request, o execOptions) (*session, error) {
	proto, err := httpstream.Handshake(r, w, spdyExecProtocols)
	if err != nil {
		return nil, errAnswered
	}
	streams := make(chan newStream, 8)
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, func(s httpstream.Stream, reply <-chan struct{}) error {
		streams <- newStream{s, reply}
		return nil
	})
	if conn == nil {
		return nil, errAnswered
	}
	conn.SetIdleTimeout(streamIdleTimeout)
	s, err := collectExecStreams(conn, streams, o, proto)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

// collectExecStreams waits until every expected stream has been opened
// and acknowledged. v1 clients open no error stream of their own accord.
func collectExecStreams(conn httpstream.Connection, streams <-chan newStream, o execOptions, proto string) (*session, error) {
	want := map[string]bool{corev1.StreamTypeError: proto != remotecommand.StreamProtocolV1Name,
		corev1.StreamTypeStdin: o.stdin, corev1.StreamTypeStdout: o.stdout, corev1.StreamTypeStderr: o.stderr,
		corev1.StreamTypeResize: o.tty && proto != remotecommand.StreamProtocolV1Name && proto != remotecommand.StreamProtocolV2Name}
	got := map[string]httpstream.Stream{}
	var replies []<-chan struct{}
	timeout := time.After(streamCreationTimeout)
	for !haveAll(want, got) {
		select {
		case ns := <-streams:
			typ := ns.stream.Headers().Get(corev1.StreamType)
			if !want[typ] {
				ns.stream.Reset()
				continue
			}
			got[typ] = ns.stream
			replies = append(replies, ns.reply)
		case <-timeout:
			return nil, fmt.Errorf("timed out waiting for client to create streams")
		case <-conn.CloseChan():
			return nil, fmt.Errorf("connection closed before all streams were created")
		}
	}
	for _, reply := range replies {
		select {
		case <-reply:
		case <-timeout:
			return nil, fmt.Errorf("timed out waiting for stream replies")
		}
	}
	return spdyStreams(conn, got, proto), nil
}

func haveAll(want map[string]bool, got map[string]httpstream.Stream) bool {
	for typ, w := range want {
		if w && got[typ] == nil {
			return false
		}
	}
	return true
}

func spdyStreams(conn httpstream.Connection, got map[string]httpstream.Stream, proto string) *session {
	done := make(chan struct{})
	go func() {
		<-conn.CloseChan()
		close(done)
	}()
	s := &session{done: done, statusJSON: proto == remotecommand.StreamProtocolV4Name}
	errStream := got[corev1.StreamTypeError]
	s.writeError = func(p []byte) error {
		if errStream == nil {
			return nil
		}
		_, err := errStream.Write(p)
		return err
	}
	if st := got[corev1.StreamTypeStdin]; st != nil {
		s.stdin = st
	}
	if st := got[corev1.StreamTypeStdout]; st != nil {
		s.stdout = st
	}
	if st := got[corev1.StreamTypeStderr]; st != nil {
		s.stderr = st
	}
	if st := got[corev1.StreamTypeResize]; st != nil {
		s.resize = newSizeQueue()
		go s.resize.feed(st)
	}
	s.closeAll = func() {
		// Closing sends each stream's FIN after its data; the client reads
		// to the end before the connection goes.
		for _, st := range got {
			st.Close()
		}
		conn.Close()
	}
	return s
}
