package auth

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/navarch/navarch/internal/pki"
)

// testEnv is a TLS API-like server using the real pki material.
type testEnv struct {
	srv    *httptest.Server
	ca     *pki.CA
	admin  tls.Certificate
	rogue  tls.Certificate // client cert from an unrelated CA
	server tls.Certificate // serving cert: valid chain, wrong usage

	adminPEM, roguePEM pemPair
}

type pemPair struct{ cert, key []byte }

const goodToken = "s3cret"

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	dir, rogueDir := t.TempDir(), t.TempDir()
	ca, err := pki.EnsureCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	rogueCA, err := pki.EnsureCA(rogueDir)
	if err != nil {
		t.Fatal(err)
	}
	serving, err := ca.EnsureServing(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	env := &testEnv{ca: ca, server: serving}
	env.admin, env.adminPEM = clientPair(t, ca, dir, "admin", "system:masters")
	env.rogue, env.roguePEM = clientPair(t, rogueCA, rogueDir, "admin", "system:masters")

	authn := Union(NewClientCert(ca.Pool()), NewToken(map[string]User{goodToken: {Name: "bot", Groups: []string{"bots"}}}))
	h := Middleware(authn, []string{"/healthz"}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := UserFrom(r.Context())
		fmt.Fprintf(w, "%v|%s|%s", ok, u.Name, strings.Join(u.Groups, ","))
	}))
	env.srv = httptest.NewUnstartedServer(h)
	env.srv.TLS = pki.ServerTLSConfig(serving, ca.Pool())
	env.srv.StartTLS()
	t.Cleanup(env.srv.Close)
	return env
}

func clientPair(t *testing.T, ca *pki.CA, dir, user string, groups ...string) (tls.Certificate, pemPair) {
	t.Helper()
	c, k, err := ca.EnsureClient(dir, user, user, groups)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(c, k)
	if err != nil {
		t.Fatal(err)
	}
	return pair, pemPair{cert: c, key: k}
}

func (e *testEnv) get(t *testing.T, path, token string, certs ...tls.Certificate) (int, http.Header, string) {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(e.ca.CertPEM)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: certs}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ProtoMajor != 2 {
		t.Errorf("negotiated %s, want HTTP/2", resp.Proto)
	}
	return resp.StatusCode, resp.Header, string(body)
}

func TestTLSMiddleware(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name     string
		path     string
		token    string
		certs    []tls.Certificate
		wantCode int
		wantBody string // for 200s
	}{
		{name: "no credentials", path: "/api", wantCode: 401},
		{name: "cert from another CA", path: "/api", certs: []tls.Certificate{env.rogue}, wantCode: 401},
		{name: "admin cert", path: "/api", certs: []tls.Certificate{env.admin}, wantCode: 200, wantBody: "true|admin|system:masters"},
		{name: "good bearer token", path: "/api", token: goodToken, wantCode: 200, wantBody: "true|bot|bots"},
		{name: "bad bearer token", path: "/api", token: "wrong", wantCode: 401},
		{name: "admin cert beats bad token", path: "/api", token: "wrong", certs: []tls.Certificate{env.admin}, wantCode: 200, wantBody: "true|admin|system:masters"},
		{name: "public path anonymous", path: "/healthz", wantCode: 200, wantBody: "false||"},
		{name: "public path with cert", path: "/healthz", certs: []tls.Certificate{env.admin}, wantCode: 200, wantBody: "true|admin|system:masters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, hdr, body := env.get(t, tt.path, tt.token, tt.certs...)
			if code != tt.wantCode {
				t.Fatalf("code = %d, want %d (body %s)", code, tt.wantCode, body)
			}
			if code == 200 {
				if body != tt.wantBody {
					t.Errorf("body = %q, want %q", body, tt.wantBody)
				}
				return
			}
			assertUnauthorized(t, hdr, body)
		})
	}
}

func assertUnauthorized(t *testing.T, hdr http.Header, body string) {
	t.Helper()
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if body != wantUnauthorized {
		t.Errorf("body = %s, want %s", body, wantUnauthorized)
	}
	var st metav1.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("body is not a Status: %v", err)
	}
	if !apierrors.IsUnauthorized(&apierrors.StatusError{ErrStatus: st}) {
		t.Errorf("client-go does not classify %+v as Unauthorized", st)
	}
}

// The TLS layer may be configured more permissively than the CA check, so the
// authenticator must verify chains and usage on its own.
func TestClientCertVerifiesIndependently(t *testing.T) {
	env := newTestEnv(t)
	a := NewClientCert(env.ca.Pool())
	tests := []struct {
		name    string
		state   *tls.ConnectionState
		wantOK  bool
		wantErr bool
	}{
		{name: "plain HTTP", state: nil},
		{name: "TLS without cert", state: &tls.ConnectionState{}},
		{name: "foreign CA", state: peer(env.rogue), wantErr: true},
		{name: "server-auth-only cert", state: peer(env.server), wantErr: true},
		{name: "admin", state: peer(env.admin), wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api", nil)
			r.TLS = tt.state
			u, ok, err := a.Authenticate(r)
			if ok != tt.wantOK || (err != nil) != tt.wantErr {
				t.Fatalf("ok=%v err=%v; want ok=%v wantErr=%v", ok, err, tt.wantOK, tt.wantErr)
			}
			if ok && (u.Name != "admin" || len(u.Groups) != 1 || u.Groups[0] != "system:masters") {
				t.Errorf("user = %+v", u)
			}
		})
	}
}

func peer(c tls.Certificate) *tls.ConnectionState {
	return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{c.Leaf}}
}
