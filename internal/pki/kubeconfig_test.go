package pki

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

func TestWriteKubeconfigRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ca := mustCA(t, dir)
	certPEM, keyPEM, err := ca.EnsureClient(dir, "admin", "admin", []string{"system:masters"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sub", "admin.kubeconfig")
	const server = "https://127.0.0.1:6443"
	if err := WriteKubeconfig(path, server, ca.CertPEM, certPEM, keyPEM); err != nil {
		t.Fatalf("WriteKubeconfig: %v", err)
	}
	assertMode(t, path, 0o600)

	raw, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatalf("LoadFromFile: %v", err)
	}
	if raw.CurrentContext != "navarch" {
		t.Errorf("current-context = %q", raw.CurrentContext)
	}
	if c := raw.Contexts["navarch"]; c == nil || c.Cluster != "navarch" || c.AuthInfo != "admin" {
		t.Errorf("context navarch = %+v", c)
	}
	rc, err := clientcmd.NewDefaultClientConfig(*raw, nil).ClientConfig()
	if err != nil {
		t.Fatalf("ClientConfig: %v", err)
	}
	if rc.Host != server {
		t.Errorf("Host = %q", rc.Host)
	}
	if !bytes.Equal(rc.TLSClientConfig.CAData, ca.CertPEM) ||
		!bytes.Equal(rc.TLSClientConfig.CertData, certPEM) ||
		!bytes.Equal(rc.TLSClientConfig.KeyData, keyPEM) {
		t.Error("TLS data in rest.Config does not match what was written")
	}

	// Rewriting replaces the file in place and leaves no temp files behind.
	if err := WriteKubeconfig(path, "https://10.0.0.1:6443", ca.CertPEM, certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil || len(entries) != 1 {
		t.Errorf("directory holds %d entries (%v), want only the kubeconfig", len(entries), err)
	}
	again, err := clientcmd.LoadFromFile(path)
	if err != nil || again.Clusters["navarch"].Server != "https://10.0.0.1:6443" {
		t.Errorf("rewritten kubeconfig not picked up: %v", err)
	}
}
