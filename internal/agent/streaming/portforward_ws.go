package streaming

import (
	"encoding/binary"
	"io"
	"net/http"
	"strconv"
	"sync"

	"k8s.io/apimachinery/pkg/util/httpstream"
)

// wsPortForward serves the WebSocket channel port-forward protocol: for
// the i-th port of the query, channel 2i carries data and 2i+1 errors, and
// each channel opens with the port number (two bytes, little endian). One
// connection per port; the session ends when all are done.
func (h *handler) wsPortForward(w http.ResponseWriter, r *http.Request, upstream httpstream.Connection, ports []int32, log logger) {
	proto, err := negotiateWS(r, portForwardWSProtocols, protoV1)
	if err != nil {
		writeError(w, badRequest(err))
		return
	}
	ws, err := upgradeWS(w, r, proto)
	if err != nil {
		return
	}
	readable := make([]bool, 2*len(ports))
	for i := range ports {
		readable[2*i] = true
	}
	c := newWSChannels(ws, proto, readable)
	defer c.Close()
	pf := newPFServer(upstream, log)
	var wg sync.WaitGroup
	for i, port := range ports {
		data, errW := c.writer(2*i), c.writer(2*i+1)
		prefix := binary.LittleEndian.AppendUint16(nil, uint16(port))
		if _, err := data.Write(prefix); err != nil {
			return
		}
		if _, err := errW.Write(prefix); err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &wsDataChannel{r: c.reader(2 * i), w: data}
			if msg := pf.relay(strconv.Itoa(int(port)), client); msg != "" {
				io.WriteString(errW, msg)
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-c.Done():
	case <-upstream.CloseChan():
	}
}

// wsDataChannel is one port's data channel as a stream.
type wsDataChannel struct {
	r io.Reader
	w io.Writer
}

func (d *wsDataChannel) Read(p []byte) (int, error)  { return d.r.Read(p) }
func (d *wsDataChannel) Write(p []byte) (int, error) { return d.w.Write(p) }

// Close has nothing to half-close: the channel protocol has no end of
// stream short of closing the connection.
func (d *wsDataChannel) Close() error { return nil }
