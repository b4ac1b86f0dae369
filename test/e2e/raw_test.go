package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// rawClient speaks HTTPS to a server with the admin credentials from its
// kubeconfig, bypassing kubectl's client-side checks.
type rawClient struct {
	base   string
	client *http.Client
}

// restConfig loads the admin kubeconfig the server wrote.
func restConfig(t *testing.T, s *server) *rest.Config {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", s.kubeconfig)
	if err != nil {
		t.Fatalf("load kubeconfig: %v", err)
	}
	return cfg
}

func newRawClient(t *testing.T, s *server) *rawClient {
	t.Helper()
	return rawClientFor(t, restConfig(t, s))
}

// anonymousClient trusts the server's CA but presents no credentials.
func anonymousClient(t *testing.T, s *server) *rawClient {
	t.Helper()
	cfg := rest.AnonymousClientConfig(restConfig(t, s))
	return rawClientFor(t, cfg)
}

func rawClientFor(t *testing.T, cfg *rest.Config) *rawClient {
	t.Helper()
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatalf("transport: %v", err)
	}
	return &rawClient{base: strings.TrimSuffix(cfg.Host, "/"), client: &http.Client{Transport: rt}}
}

// response is a fully read HTTP response.
type response struct {
	code   int
	header http.Header
	body   []byte
}

// rawResult is a response read off the test goroutine, where t.Fatal
// must not be called.
type rawResult struct {
	response
	err error
}

// doNoFatal is do for use from helper goroutines.
func (c *rawClient) doNoFatal(method, path string, body []byte) rawResult {
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return rawResult{err: err}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return rawResult{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return rawResult{response: response{code: resp.StatusCode, header: resp.Header, body: b}, err: err}
}

// do sends body (if any) as JSON, or as a merge patch for PATCH, and
// reads the whole response.
func (c *rawClient) do(t *testing.T, method, path string, body []byte) response {
	t.Helper()
	ct := "application/json"
	if method == http.MethodPatch {
		ct = "application/merge-patch+json"
	}
	return c.doAs(t, method, path, ct, body)
}

// doAs is do with an explicit Content-Type.
func (c *rawClient) doAs(t *testing.T, method, path, contentType string, body []byte) response {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: b}
}

// status decodes a metav1.Status body, failing if it is not one.
func (r response) status(t *testing.T) metav1.Status {
	t.Helper()
	var st metav1.Status
	if err := json.Unmarshal(r.body, &st); err != nil || st.Kind != "Status" {
		t.Fatalf("want a Status body for HTTP %d, got %q (err %v)", r.code, truncate(r.body), err)
	}
	return st
}

// meta decodes the object metadata of a response body.
func (r response) meta(t *testing.T) metav1.ObjectMeta {
	t.Helper()
	var obj struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(r.body, &obj); err != nil {
		t.Fatalf("decode object: %v in %q", err, truncate(r.body))
	}
	return obj.Metadata
}

func truncate(b []byte) string {
	const max = 600
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}
