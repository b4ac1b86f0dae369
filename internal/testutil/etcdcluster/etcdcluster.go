// Package etcdcluster starts a real multi-member etcd cluster of Debian's
// etcd binary on loopback ports, with client TLS, for integration tests.
// It is test support only: nothing outside _test.go files may import it.
package etcdcluster

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Binary is where Debian's etcd-server package installs etcd.
const Binary = "/usr/bin/etcd"

// Member is one etcd child process.
type Member struct {
	Name, ClientURL, PeerURL string
	cmd                      *exec.Cmd
}

// Cluster is a running cluster and the TLS files that reach it.
type Cluster struct {
	Members []*Member
	PKI     PKI
}

// Endpoints lists the members' client URLs.
func (c *Cluster) Endpoints() []string {
	var out []string
	for _, m := range c.Members {
		out = append(out, m.ClientURL)
	}
	return out
}

// Start runs an n-member cluster in t.TempDir(), stopped by t.Cleanup. It
// skips the test when the etcd binary is not installed.
func Start(t *testing.T, n int) *Cluster {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		t.Skipf("%s not installed (make deps installs etcd-server): %v", Binary, err)
	}
	dir := t.TempDir()
	pki := writePKI(t, dir)
	return &Cluster{Members: startMembers(t, dir, pki, n), PKI: pki}
}

// KillLeader kills the member that is currently leader.
func (c *Cluster) KillLeader(t *testing.T, client *clientv3.Client) {
	members := c.Members
	t.Helper()
	for _, m := range members {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := client.Status(ctx, m.ClientURL)
		cancel()
		if err != nil {
			t.Fatalf("Status(%s): %v", m.ClientURL, err)
		}
		if st.Leader == st.Header.MemberId {
			t.Logf("killing leader %s", m.Name)
			if err := m.cmd.Process.Kill(); err != nil {
				t.Fatalf("kill %s: %v", m.Name, err)
			}
			_ = m.cmd.Wait()
			return
		}
	}
	t.Fatal("no member reports itself as leader")
}

func startMembers(t *testing.T, dir string, pki PKI, n int) []*Member {
	t.Helper()
	var members []*Member
	var initial []string
	for i := range n {
		m := &Member{
			Name:      fmt.Sprintf("m%d", i),
			ClientURL: "https://" + freeAddr(t),
			PeerURL:   "http://" + freeAddr(t),
		}
		members = append(members, m)
		initial = append(initial, m.Name+"="+m.PeerURL)
	}
	for _, m := range members {
		m.cmd = exec.Command(Binary,
			"--name", m.Name,
			"--data-dir", filepath.Join(dir, m.Name),
			"--listen-client-urls", m.ClientURL, "--advertise-client-urls", m.ClientURL,
			"--listen-peer-urls", m.PeerURL, "--initial-advertise-peer-urls", m.PeerURL,
			"--initial-cluster", strings.Join(initial, ","),
			"--initial-cluster-state", "new", "--initial-cluster-token", "navarch-test",
			"--cert-file", pki.ServerCert, "--key-file", pki.ServerKey,
			"--trusted-ca-file", pki.CA, "--client-cert-auth",
			"--heartbeat-interval", "50", "--election-timeout", "500",
		)
		m.cmd.Env = etcdFreeEnv()
		logf, err := os.Create(filepath.Join(dir, m.Name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		m.cmd.Stdout, m.cmd.Stderr = logf, logf
		if err := m.cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", m.Name, err)
		}
		t.Cleanup(func() {
			_ = m.cmd.Process.Kill()
			_ = m.cmd.Wait()
			logf.Close()
			if t.Failed() {
				out, _ := os.ReadFile(logf.Name())
				t.Logf("%s log tail:\n%s", m.Name, tail(string(out), 2000))
			}
		})
	}
	return members
}

// etcdFreeEnv drops ETCD_* variables, which etcd would read as flags.
func etcdFreeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") {
			env = append(env, kv)
		}
	}
	return env
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// PKI holds the paths of a throwaway CA and the certificates it signed.
type PKI struct {
	CA, ServerCert, ServerKey, ClientCert, ClientKey string
}

func writePKI(t *testing.T, dir string) PKI {
	t.Helper()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "navarch-test-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	p := PKI{CA: filepath.Join(dir, "ca.crt")}
	writePEM(t, p.CA, "CERTIFICATE", caDER)
	leaf := func(name string, serial int64, usage ...x509.ExtKeyUsage) (string, string) {
		key := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage:  usage,
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
			DNSNames:     []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		certPath, keyPath := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
		writePEM(t, certPath, "CERTIFICATE", der)
		writePEM(t, keyPath, "EC PRIVATE KEY", keyDER)
		return certPath, keyPath
	}
	// etcd also presents its server certificate as a client (to itself,
	// from the gRPC gateway), so it needs both usages.
	p.ServerCert, p.ServerKey = leaf("server", 2, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	p.ClientCert, p.ClientKey = leaf("client", 3, x509.ExtKeyUsageClientAuth)
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
