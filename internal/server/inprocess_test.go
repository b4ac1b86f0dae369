package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/navarch/navarch/internal/gopool"
)

func TestInProcessRoundTrip(t *testing.T) {
	peer := &x509.Certificate{Raw: []byte("leaf")}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		body    string
		code    int
		want    string
		header  string // value of X-Test in the response
		readErr bool
	}{
		{name: "status, headers and body", code: http.StatusCreated, want: "made", header: "yes",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Test", "yes")
				w.WriteHeader(http.StatusCreated)
				w.Header().Set("X-Test", "too late")
				io.WriteString(w, "made")
			}},
		{name: "nothing written is an empty 200", code: http.StatusOK,
			handler: func(http.ResponseWriter, *http.Request) {}},
		{name: "the request arrives as parsed off the wire", body: "payload", code: http.StatusOK,
			want: "/api/v1/pods?watch=1 example:6443 POST payload true",
			handler: func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				ok := r.TLS != nil && len(r.TLS.PeerCertificates) == 1 && r.TLS.PeerCertificates[0] == peer &&
					r.URL.Host == "" && r.URL.Path == "/api/v1/pods"
				io.WriteString(w, strings.Join([]string{r.RequestURI, r.Host, r.Method, string(b), boolString(ok)}, " "))
			}},
		{name: "a panic fails the body", code: http.StatusInternalServerError, readErr: true,
			handler: func(http.ResponseWriter, *http.Request) { panic("boom") }},
		{name: "1xx headers are not the response", code: http.StatusAccepted,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusContinue)
				w.WriteHeader(http.StatusAccepted)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt := &inProcess{handler: tc.handler, workers: gopool.New(time.Second), tls: &tls.ConnectionState{PeerCertificates: []*x509.Certificate{peer}}}
			req, err := http.NewRequest(http.MethodPost, "https://example:6443/api/v1/pods?watch=1", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if (err != nil) != tc.readErr {
				t.Fatalf("reading body: err %v, want error %v", err, tc.readErr)
			}
			if resp.StatusCode != tc.code || string(got) != tc.want || resp.Header.Get("X-Test") != tc.header {
				t.Errorf("got %d %q X-Test=%q, want %d %q X-Test=%q", resp.StatusCode, got, resp.Header.Get("X-Test"),
					tc.code, tc.want, tc.header)
			}
		})
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// A watch must stream: the client reads each event while the handler is
// still running, and a client that goes away unblocks the handler.
func TestInProcessStreamsAndCancels(t *testing.T) {
	handlerDone := make(chan error, 1)
	rt := &inProcess{workers: gopool.New(time.Second), handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; ; i++ {
			if _, err := io.WriteString(w, "event\n"); err != nil {
				handlerDone <- err
				return
			}
			w.(http.Flusher).Flush()
		}
	})}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://example/api/v1/pods?watch=1", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(resp.Body)
	for range 3 {
		if line, err := r.ReadString('\n'); err != nil || line != "event\n" {
			t.Fatalf("read %q, %v", line, err)
		}
	}
	cancel()
	select {
	case err := <-handlerDone:
		if err == nil {
			t.Fatal("handler write succeeded after the client went away")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("handler still blocked after the client cancelled")
	}
}
