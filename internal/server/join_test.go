package server_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/navarch/navarch/internal/agent/join"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

// TestJoin: the token joins a node and is good for nothing else; the
// agent refuses a server whose CA does not match its pin; the node then
// works with its own certificate, which may renew only itself.
func TestJoin(t *testing.T) {
	env := testserver.Start(t)
	ctx := context.Background()
	tokenB, err := os.ReadFile(filepath.Join(env.DataDir, "pki", "token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tokenB))
	caPEM, err := os.ReadFile(filepath.Join(env.DataDir, "pki", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pin, err := join.CAHash(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	url := env.Server.URL
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

	// The token is refused everywhere but the join endpoint.
	for _, path := range []string{"/api/v1/pods", "/api/v1/nodes", "/version", "/apis"} {
		req, _ := http.NewRequest(http.MethodGet, url+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := insecure.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "only good for joining nodes") {
			t.Errorf("GET %s with the join token: %d %s", path, resp.StatusCode, body)
		}
	}
	// The CA is public.
	resp, err := insecure.Get(url + join.CAPath)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(got) != string(caPEM) {
		t.Errorf("GET %s: %d %q", join.CAPath, resp.StatusCode, got)
	}

	id := join.Identity{NodeName: "worker-1", DNSNames: []string{"worker-1"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}
	wrongPin := "sha256:" + strings.Repeat("ab", 32)
	signer, err := join.Remote{Server: url, Token: token, CAHash: wrongPin}.Signer()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := join.Ensure(ctx, t.TempDir(), id, signer); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("join with a wrong CA pin: %v", err)
	}
	if _, err := (join.Remote{Server: url, Token: token}).Signer(); err == nil {
		t.Error("joining without a CA pin or file was allowed")
	}
	signer, _ = join.Remote{Server: url, Token: "not-the-token", CAHash: pin}.Signer()
	if _, err := join.Ensure(ctx, t.TempDir(), id, signer); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("join with a wrong token: %v", err)
	}

	dir := t.TempDir()
	signer, _ = join.Remote{Server: url, Token: token, CAHash: pin}.Signer()
	creds, err := join.Ensure(ctx, dir, id, signer)
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	if cn := creds.Client.Leaf.Subject.CommonName; cn != "system:node:worker-1" || creds.Client.Leaf.Subject.Organization[0] != "system:nodes" {
		t.Errorf("node identity %q %v", cn, creds.Client.Leaf.Subject.Organization)
	}
	if !creds.Serving.Leaf.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("serving certificate SANs %v", creds.Serving.Leaf.IPAddresses)
	}
	cs := kubernetes.NewForConfigOrDie(creds.RestConfig(url))
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Errorf("the node's certificate does not reach the API: %v", err)
	}
	// Certificates on disk are reused without the server.
	if _, ok := join.Load(dir, id); !ok {
		t.Error("fresh credentials do not load back")
	}

	// A node renews with its own certificate, for its own name only.
	renew := func(name string) error {
		s, _ := join.Remote{Server: url, CAHash: pin, Existing: &creds.Client}.Signer()
		_, err := join.Ensure(ctx, t.TempDir(), join.Identity{NodeName: name, DNSNames: []string{name}, IPs: id.IPs}, s)
		return err
	}
	if err := renew("worker-1"); err != nil {
		t.Errorf("renewal with the node's certificate: %v", err)
	}
	if err := renew("worker-2"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("a node got another node's identity: %v", err)
	}
}
