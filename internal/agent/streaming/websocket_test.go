package streaming

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type wsFrame struct {
	ch   byte
	data string
}

// rawExec drives /exec with a plain WebSocket client, to check the
// framing byte by byte: it sends frames, then reads every frame until the
// server closes.
func rawExec(t *testing.T, url, proto string, send [][]byte) ([]wsFrame, error) {
	t.Helper()
	ws, resp, err := (&websocket.Dialer{Subprotocols: []string{proto}}).Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", proto, err, resp)
	}
	defer ws.Close()
	if ws.Subprotocol() != proto {
		t.Fatalf("negotiated %q, want %q", ws.Subprotocol(), proto)
	}
	b64 := strings.Contains(proto, "base64")
	for _, m := range send {
		typ := websocket.BinaryMessage
		if b64 {
			typ = websocket.TextMessage
		}
		if err := ws.WriteMessage(typ, m); err != nil {
			t.Fatal(err)
		}
	}
	var frames []wsFrame
	for {
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		typ, m, err := ws.ReadMessage()
		if err != nil {
			return frames, err
		}
		if b64 {
			if typ != websocket.TextMessage {
				t.Fatalf("base64 protocol sent message type %d", typ)
			}
			frames = append(frames, wsFrame{m[0] - '0', b64dec(t, string(m[1:]))})
		} else {
			frames = append(frames, wsFrame{m[0], string(m[1:])})
		}
	}
}

func TestWebSocketExecFraming(t *testing.T) {
	srv, _ := newExecServer(t)
	base := "ws" + strings.TrimPrefix(srv.URL, "http") + "/exec/default/web/app?"

	// v5: an empty stdout frame opens the session; the close signal ends
	// stdin; the error channel carries a Success Status; then a normal
	// closure.
	frames, err := rawExec(t, base+"command=cat&stdin=true&stdout=true", protoV5,
		[][]byte{append([]byte{0}, "hi"...), {closeSignal, 0}})
	if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("v5 ended with %v, want a normal closure", err)
	}
	if len(frames) != 3 || frames[0] != (wsFrame{1, ""}) || frames[1] != (wsFrame{1, "hi"}) || frames[2].ch != 3 {
		t.Fatalf("v5 frames: %+v", frames)
	}
	var st metav1.Status
	if err := json.Unmarshal([]byte(frames[2].data), &st); err != nil || st.Status != metav1.StatusSuccess {
		t.Fatalf("v5 status %q: %v", frames[2].data, err)
	}

	// v4 over base64: exit codes in the Status's ExitCode cause.
	frames, _ = rawExec(t, base+"command=exit&command=7&stderr=true", protoV4Base64, nil)
	last := frames[len(frames)-1]
	if frames[0] != (wsFrame{2, ""}) || last.ch != 3 {
		t.Fatalf("v4.base64 frames: %+v", frames)
	}
	st = metav1.Status{}
	if err := json.Unmarshal([]byte(last.data), &st); err != nil || st.Reason != "NonZeroExitCode" ||
		st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != "ExitCode" || st.Details.Causes[0].Message != "7" {
		t.Fatalf("v4.base64 status %q: %v", last.data, err)
	}
	if !strings.Contains(frameData(frames, 2), "bye") {
		t.Errorf("stderr frames: %+v", frames)
	}

	// The unversioned protocol carries only the failure's message.
	frames, _ = rawExec(t, base+"command=exit&command=2&stderr=true", protoV1, nil)
	if msg := frameData(frames, 3); msg != "command terminated with non-zero exit code: exit status 2" {
		t.Fatalf("channel.k8s.io error channel: %q", msg)
	}

	// v4 has no close signal: 255 is not a channel and is ignored.
	frames, _ = rawExec(t, base+"command=exit&command=0&stdout=true", protoV4, [][]byte{{closeSignal, 0}})
	if frameData(frames, 3) == "" {
		t.Fatalf("v4 frames: %+v", frames)
	}
}

func TestWebSocketUnsupportedProtocol(t *testing.T) {
	srv, _ := newExecServer(t)
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/exec/default/web/app?command=ls&stdout=true"
	_, resp, err := (&websocket.Dialer{Subprotocols: []string{"v9.channel.k8s.io"}}).Dial(url, nil)
	if err == nil || resp == nil || resp.StatusCode != 400 {
		t.Fatalf("unsupported protocol: err=%v resp=%v", err, resp)
	}
}

func frameData(frames []wsFrame, ch byte) string {
	var b strings.Builder
	for _, f := range frames {
		if f.ch == ch {
			b.WriteString(f.data)
		}
	}
	return b.String()
}
