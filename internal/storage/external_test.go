package storage

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
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

const etcdBinary = "/usr/bin/etcd"

// externalMember is one etcd child process.
type externalMember struct {
	name, clientURL, peerURL string
	cmd                      *exec.Cmd
}

// TestExternalTLSCluster runs a 3-member etcd 3.4 cluster with client TLS,
// drives the storage through it, then kills the leader and keeps writing.
func TestExternalTLSCluster(t *testing.T) {
	if _, err := os.Stat(etcdBinary); err != nil {
		t.Skipf("%s not installed (apt-get install etcd-server): %v", etcdBinary, err)
	}
	dir := t.TempDir()
	pki := writePKI(t, dir)
	members := startExternalCluster(t, dir, pki)

	ctx := testCtx(t)
	var endpoints []string
	for _, m := range members {
		endpoints = append(endpoints, m.clientURL)
	}
	client, err := Dial(ctx, ClientConfig{
		Endpoints: endpoints, CAFile: pki.ca, CertFile: pki.clientCert, KeyFile: pki.clientKey,
		DialTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("Dial over TLS: %v", err)
	}
	s := NewEtcd(client)
	t.Cleanup(func() { _ = s.Close() })
	waitWritable(t, s, "/ext/ready")

	start, _ := s.CurrentRevision(ctx)
	ch := s.Watch(ctx, "/ext/obj/", start)
	kv := mustCreate(t, s, "/ext/obj/a", "1")
	kv2, err := s.Update(ctx, "/ext/obj/a", []byte("2"), kv.ModRevision)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	for _, want := range []int64{kv.ModRevision, kv2.ModRevision} {
		if ev := next(t, ch); ev.Type != EventPut || ev.Revision != want {
			t.Fatalf("watch event %+v, want a put at %d", ev, want)
		}
	}

	killLeader(t, client, members)
	before, _ := s.CurrentRevision(ctx)
	after := waitWritable(t, s, "/ext/obj/b")
	// A fresh watch replays the post-failure write from the survivors.
	if ev := next(t, s.Watch(ctx, "/ext/obj/", before)); ev.Key != "/ext/obj/b" || ev.Revision != after.ModRevision {
		t.Fatalf("watch after failover = %+v, want /ext/obj/b at %d", ev, after.ModRevision)
	}
}

// waitWritable creates key, retrying while the cluster is unavailable (an
// election in progress); a retried create that finds its own earlier write
// counts as success.
func waitWritable(t *testing.T, s *Etcd, key string) KeyValue {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		kv, err := s.Create(ctx, key, []byte("x"))
		cancel()
		switch {
		case err == nil:
			return kv
		case errors.Is(err, ErrExists):
			got, gerr := s.Get(testCtx(t), key)
			if gerr != nil {
				t.Fatalf("Get(%s) after ErrExists: %v", key, gerr)
			}
			return got
		case time.Now().After(deadline):
			t.Fatalf("Create(%s) still failing after 30s: %v", key, err)
		}
		t.Logf("Create(%s) retrying: %v", key, err)
		time.Sleep(100 * time.Millisecond) // pacing retries during an election
	}
}

func killLeader(t *testing.T, client *clientv3.Client, members []*externalMember) {
	t.Helper()
	for _, m := range members {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := client.Status(ctx, m.clientURL)
		cancel()
		if err != nil {
			t.Fatalf("Status(%s): %v", m.clientURL, err)
		}
		if st.Leader == st.Header.MemberId {
			t.Logf("killing leader %s", m.name)
			if err := m.cmd.Process.Kill(); err != nil {
				t.Fatalf("kill %s: %v", m.name, err)
			}
			_ = m.cmd.Wait()
			return
		}
	}
	t.Fatal("no member reports itself as leader")
}

func startExternalCluster(t *testing.T, dir string, pki testPKI) []*externalMember {
	t.Helper()
	var members []*externalMember
	var initial []string
	for i := range 3 {
		m := &externalMember{
			name:      fmt.Sprintf("m%d", i),
			clientURL: "https://" + freeAddr(t),
			peerURL:   "http://" + freeAddr(t),
		}
		members = append(members, m)
		initial = append(initial, m.name+"="+m.peerURL)
	}
	for _, m := range members {
		m.cmd = exec.Command(etcdBinary,
			"--name", m.name,
			"--data-dir", filepath.Join(dir, m.name),
			"--listen-client-urls", m.clientURL, "--advertise-client-urls", m.clientURL,
			"--listen-peer-urls", m.peerURL, "--initial-advertise-peer-urls", m.peerURL,
			"--initial-cluster", strings.Join(initial, ","),
			"--initial-cluster-state", "new", "--initial-cluster-token", "navarch-test",
			"--cert-file", pki.serverCert, "--key-file", pki.serverKey,
			"--trusted-ca-file", pki.ca, "--client-cert-auth",
			"--heartbeat-interval", "50", "--election-timeout", "500",
		)
		m.cmd.Env = etcdFreeEnv()
		logf, err := os.Create(filepath.Join(dir, m.name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		m.cmd.Stdout, m.cmd.Stderr = logf, logf
		if err := m.cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", m.name, err)
		}
		t.Cleanup(func() {
			_ = m.cmd.Process.Kill()
			_ = m.cmd.Wait()
			logf.Close()
			if t.Failed() {
				out, _ := os.ReadFile(logf.Name())
				t.Logf("%s log tail:\n%s", m.name, tail(string(out), 2000))
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

// testPKI holds the paths of a throwaway CA and the certificates it signed.
type testPKI struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

func writePKI(t *testing.T, dir string) testPKI {
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
	p := testPKI{ca: filepath.Join(dir, "ca.crt")}
	writePEM(t, p.ca, "CERTIFICATE", caDER)
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
	p.serverCert, p.serverKey = leaf("server", 2, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	p.clientCert, p.clientKey = leaf("client", 3, x509.ExtKeyUsageClientAuth)
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
