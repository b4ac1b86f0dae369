package streaming

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// WebSocket subprotocols of the channel family: every message carries one
// channel's data, led by the channel number (binary protocols) or its
// ASCII digit followed by base64 (text protocols).
const (
	protoV5        = "v5.channel.k8s.io"
	protoV4        = "v4.channel.k8s.io"
	protoV4Base64  = "v4.base64.channel.k8s.io"
	protoV1        = "channel.k8s.io"
	protoV1Base64  = "base64.channel.k8s.io"
	protoPortFwd   = "portforward.k8s.io"
	protoPFBase64  = "base64.portforward.k8s.io"
	protoTunnelPF  = "SPDY/3.1+portforward.k8s.io"
	closeSignal    = 255
	wsWriteTimeout = 60 * time.Second
)

// wsProtocol describes one channel subprotocol.
type wsProtocol struct {
	name string
	// base64 frames are text messages: '0'+channel, then base64 data.
	base64 bool
	// closeSignal (v5): a message [255, ch] half-closes channel ch.
	closeSignal bool
	// statusJSON (v4+): the error channel carries a metav1.Status.
	statusJSON bool
}

var (
	execWSProtocols = []wsProtocol{
		{name: protoV5, closeSignal: true, statusJSON: true},
		{name: protoV4, statusJSON: true},
		{name: protoV4Base64, base64: true, statusJSON: true},
		{name: protoV1},
		{name: protoV1Base64, base64: true},
	}
	portForwardWSProtocols = []wsProtocol{
		{name: protoPortFwd},
		{name: protoPFBase64, base64: true},
		{name: protoV4},
		{name: protoV4Base64, base64: true},
		{name: protoV1},
		{name: protoV1Base64, base64: true},
	}
)

// isWebSocket reports whether r asks for a WebSocket upgrade.
func isWebSocket(r *http.Request) bool { return websocket.IsWebSocketUpgrade(r) }

// negotiateWS picks the client's most preferred protocol among supported;
// a client that names none gets the unversioned binary protocol.
func negotiateWS(r *http.Request, supported []wsProtocol, fallback string) (wsProtocol, error) {
	offered := websocket.Subprotocols(r)
	if len(offered) == 0 {
		offered = []string{fallback}
	}
	for _, o := range offered {
		if i := slices.IndexFunc(supported, func(p wsProtocol) bool { return p.name == o }); i >= 0 {
			return supported[i], nil
		}
	}
	names := make([]string, len(supported))
	for i, p := range supported {
		names[i] = p.name
	}
	return wsProtocol{}, fmt.Errorf("requested protocol(s) are not supported: %v; supports %v", offered, names)
}

// upgradeWS completes the handshake for protocol p.
func upgradeWS(w http.ResponseWriter, r *http.Request, p wsProtocol) (*websocket.Conn, error) {
	u := websocket.Upgrader{
		// Authentication is the HTTPS server's job (client certificates),
		// and no browser talks to the agent: any origin will do.
		CheckOrigin: func(*http.Request) bool { return true },
		// gorilla answers an empty list with no Sec-WebSocket-Protocol,
		// which is right for a client that offered none.
		HandshakeTimeout: 30 * time.Second,
	}
	if len(websocket.Subprotocols(r)) > 0 {
		u.Subprotocols = []string{p.name}
	}
	return u.Upgrade(w, r, nil)
}

// wsChannels multiplexes numbered channels over one WebSocket connection.
type wsChannels struct {
	ws    *websocket.Conn
	proto wsProtocol
	wmu   sync.Mutex
	// in[i] carries client data of channel i; nil for write-only ones.
	in   []*io.PipeReader
	inW  []*io.PipeWriter
	done chan struct{}
	once sync.Once
}

// newWSChannels starts reading the connection; readable lists which of
// the n channels take data from the client.
func newWSChannels(ws *websocket.Conn, proto wsProtocol, readable []bool) *wsChannels {
	c := &wsChannels{ws: ws, proto: proto, in: make([]*io.PipeReader, len(readable)),
		inW: make([]*io.PipeWriter, len(readable)), done: make(chan struct{})}
	for i, r := range readable {
		if r {
			c.in[i], c.inW[i] = io.Pipe()
		}
	}
	go c.readLoop()
	return c
}

// reader returns channel ch's data from the client.
func (c *wsChannels) reader(ch int) io.Reader { return c.in[ch] }

// writer returns a writer that sends on channel ch.
func (c *wsChannels) writer(ch int) io.Writer { return wsWriter{c: c, ch: byte(ch)} }

// Done is closed when the client has gone (or the connection is closed).
func (c *wsChannels) Done() <-chan struct{} { return c.done }

type wsWriter struct {
	c  *wsChannels
	ch byte
}

func (w wsWriter) Write(p []byte) (int, error) {
	if err := w.c.send(w.ch, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *wsChannels) send(ch byte, p []byte) error {
	var msg []byte
	typ := websocket.BinaryMessage
	if c.proto.base64 {
		typ = websocket.TextMessage
		msg = make([]byte, 1+base64.StdEncoding.EncodedLen(len(p)))
		msg[0] = '0' + ch
		base64.StdEncoding.Encode(msg[1:], p)
	} else {
		msg = make([]byte, 1+len(p))
		msg[0] = ch
		copy(msg[1:], p)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
	return c.ws.WriteMessage(typ, msg)
}

func (c *wsChannels) readLoop() {
	defer c.finishReads(io.EOF)
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if err := c.dispatch(msg); err != nil {
			c.finishReads(err)
			return
		}
	}
}

// dispatch hands one client message to its channel; messages for
// channels the client may not write are dropped.
func (c *wsChannels) dispatch(msg []byte) error {
	if len(msg) == 0 {
		return nil
	}
	if c.proto.closeSignal && msg[0] == closeSignal {
		if len(msg) != 2 {
			return errors.New("close signal must name exactly one channel")
		}
		if ch := int(msg[1]); ch < len(c.inW) && c.inW[ch] != nil {
			c.inW[ch].Close()
		}
		return nil
	}
	ch, data := int(msg[0]), msg[1:]
	if c.proto.base64 {
		ch -= '0'
		dec := make([]byte, base64.StdEncoding.DecodedLen(len(data)))
		n, err := base64.StdEncoding.Decode(dec, data)
		if err != nil {
			return fmt.Errorf("channel %d: bad base64: %w", ch, err)
		}
		data = dec[:n]
	}
	if ch < 0 || ch >= len(c.inW) || c.inW[ch] == nil || len(data) == 0 {
		return nil
	}
	// A reader that went away (closed pipe) just loses its input.
	_, _ = c.inW[ch].Write(data)
	return nil
}

func (c *wsChannels) finishReads(err error) {
	c.once.Do(func() {
		for _, w := range c.inW {
			if w != nil {
				w.CloseWithError(err)
			}
		}
		close(c.done)
	})
}

// Close ends the session with a normal closure, which clients read as the
// end of every channel, and drops the connection.
func (c *wsChannels) Close() error {
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
		time.Now().Add(time.Second))
	c.wmu.Unlock()
	err := c.ws.Close()
	c.finishReads(io.EOF)
	return err
}

// offers reports whether the client offered subprotocol p.
func offers(r *http.Request, p string) bool {
	return slices.Contains(websocket.Subprotocols(r), p)
}
