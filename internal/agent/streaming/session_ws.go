package streaming

import (
	"fmt"
	"net/http"

	"k8s.io/apimachinery/pkg/util/remotecommand"
)

// wsSession upgrades an exec or attach to a WebSocket channel protocol.
// Channels 0-4 are stdin, stdout, stderr, error and resize.
func wsSession(w http.ResponseWriter, r *http.Request, o execOptions) (*session, error) {
	proto, err := negotiateWS(r, execWSProtocols, protoV1)
	if err != nil {
		writeError(w, badRequest(err))
		return nil, err
	}
	ws, err := upgradeWS(w, r, proto)
	if err != nil {
		// gorilla has answered the client already.
		return nil, fmt.Errorf("websocket upgrade: %w", err)
	}
	readable := []bool{o.stdin, false, false, false, o.tty}
	c := newWSChannels(ws, proto, readable)
	s := &session{done: c.Done(), statusJSON: proto.statusJSON, closeAll: func() { c.Close() }}
	errW := c.writer(remotecommand.StreamErr)
	s.writeError = func(p []byte) error { _, err := errW.Write(p); return err }
	if o.stdin {
		s.stdin = c.reader(remotecommand.StreamStdIn)
	}
	if o.stdout {
		s.stdout = c.writer(remotecommand.StreamStdOut)
	}
	if o.stderr {
		s.stderr = c.writer(remotecommand.StreamStdErr)
	}
	if o.tty {
		s.resize = newSizeQueue()
		go s.resize.feed(c.reader(remotecommand.StreamResize))
	}
	// An empty message on the first channel the client reads tells it the
	// session is up, as the kubelet does.
	first := remotecommand.StreamErr
	switch {
	case o.stdout:
		first = remotecommand.StreamStdOut
	case o.stderr:
		first = remotecommand.StreamStdErr
	}
	if _, err := c.writer(first).Write(nil); err != nil {
		c.Close()
		return nil, fmt.Errorf("websocket: %w", err)
	}
	return s, nil
}
