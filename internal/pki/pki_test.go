package pki

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func mustCA(t *testing.T, dir string) *CA {
	t.Helper()
	ca, err := EnsureCA(dir)
	if err != nil {
		t.Fatalf("EnsureCA: %v", err)
	}
	return ca
}

func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	if got := st.Mode().Perm(); got != want {
		t.Errorf("%s mode = %o, want %o", path, got, want)
	}
}

func TestEnsureCACreatesAndReuses(t *testing.T) {
	dir := t.TempDir()
	ca := mustCA(t, dir)
	if ca.Cert.Subject.CommonName != "navarch-ca" || !ca.Cert.IsCA {
		t.Fatalf("unexpected CA subject %q isCA=%v", ca.Cert.Subject.CommonName, ca.Cert.IsCA)
	}
	if life := ca.Cert.NotAfter.Sub(time.Now()); life < 9*365*24*time.Hour {
		t.Errorf("CA validity %v, want ~10 years", life)
	}
	if err := ca.Cert.CheckSignatureFrom(ca.Cert); err != nil {
		t.Errorf("CA is not self-signed: %v", err)
	}
	assertMode(t, filepath.Join(dir, "ca.key"), 0o600)

	again := mustCA(t, dir)
	if again.Cert.SerialNumber.Cmp(ca.Cert.SerialNumber) != 0 {
		t.Errorf("second EnsureCA minted a new CA")
	}
	if string(again.CertPEM) != string(ca.CertPEM) {
		t.Errorf("CertPEM differs after reload")
	}
}

func TestEnsureCARejectsHalfPresent(t *testing.T) {
	for _, keep := range []string{"ca.crt", "ca.key"} {
		t.Run(keep, func(t *testing.T) {
			dir := t.TempDir()
			mustCA(t, dir)
			for _, f := range []string{"ca.crt", "ca.key"} {
				if f != keep {
					os.Remove(filepath.Join(dir, f))
				}
			}
			if _, err := EnsureCA(dir); err == nil {
				t.Fatal("EnsureCA succeeded with only " + keep)
			}
		})
	}
}

func TestEnsureServingSANs(t *testing.T) {
	dir := t.TempDir()
	ca := mustCA(t, dir)
	c, err := ca.EnsureServing(dir, []string{"10.96.0.1", "api.example.com"})
	if err != nil {
		t.Fatalf("EnsureServing: %v", err)
	}
	leaf := c.Leaf
	host, _ := os.Hostname()
	wantDNS := []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc.cluster.local", "api.example.com"}
	if host != "" {
		wantDNS = append(wantDNS, host)
	}
	for _, d := range wantDNS {
		if err := leaf.VerifyHostname(d); err != nil {
			t.Errorf("serving cert does not cover %q: %v", d, err)
		}
	}
	wantIPs := append([]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1"), net.ParseIP("10.96.0.1")}, hostIPs()...)
	for _, ip := range wantIPs {
		if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
			t.Errorf("serving cert lacks IP %s (has %v)", ip, leaf.IPAddresses)
		}
	}
	if !ca.verifies(leaf, x509.ExtKeyUsageServerAuth, time.Now()) {
		t.Error("serving cert does not verify against CA for server auth")
	}
	assertMode(t, filepath.Join(dir, "serving.key"), 0o600)
}

func TestEnsureServingReuseAndReissue(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(t *testing.T, dir string, ca *CA) *CA // returns the CA for the second call
		extra2  []string
		reissue bool
	}{
		{name: "unchanged is reused", reissue: false},
		{name: "subset of extras is reused", extra2: []string{}, reissue: false},
		{name: "new IP SAN", extra2: []string{"10.96.0.1", "192.0.2.7"}, reissue: true},
		{name: "new DNS SAN", extra2: []string{"10.96.0.1", "new.example"}, reissue: true},
		{name: "expiring soon", mutate: writeShortLivedServing, reissue: true},
		{name: "different CA", mutate: replaceCA, reissue: true},
		{name: "corrupt cert", mutate: corruptServing, reissue: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ca := mustCA(t, dir)
			first, err := ca.EnsureServing(dir, []string{"10.96.0.1"})
			if err != nil {
				t.Fatalf("first EnsureServing: %v", err)
			}
			before := first.Leaf.SerialNumber
			if tt.mutate != nil {
				ca = tt.mutate(t, dir, ca)
				if l, _ := loadLeaf(filepath.Join(dir, "serving.crt"), filepath.Join(dir, "serving.key")); l != nil {
					before = l.cert.SerialNumber
				}
			}
			extra2 := tt.extra2
			if extra2 == nil {
				extra2 = []string{"10.96.0.1"}
			}
			second, err := ca.EnsureServing(dir, extra2)
			if err != nil {
				t.Fatalf("second EnsureServing: %v", err)
			}
			if got := second.Leaf.SerialNumber.Cmp(before) != 0; got != tt.reissue {
				t.Errorf("reissued = %v, want %v", got, tt.reissue)
			}
			if !ca.verifies(second.Leaf, x509.ExtKeyUsageServerAuth, time.Now()) {
				t.Error("resulting cert does not verify against the current CA")
			}
			dns, ips, _ := wantedSANs(extra2)
			if !coversSANs(second.Leaf, dns, ips) {
				t.Error("resulting cert does not cover all wanted SANs")
			}
			onDisk, err := loadLeaf(filepath.Join(dir, "serving.crt"), filepath.Join(dir, "serving.key"))
			if err != nil || onDisk == nil || onDisk.cert.SerialNumber.Cmp(second.Leaf.SerialNumber) != 0 {
				t.Error("returned certificate is not the one stored on disk")
			}
		})
	}
}

func writeShortLivedServing(t *testing.T, dir string, ca *CA) *CA {
	t.Helper()
	dns, ips, err := wantedSANs([]string{"10.96.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	der, key, err := ca.issue(leafSpec{
		subject: pkix.Name{CommonName: "short"}, usage: x509.ExtKeyUsageServerAuth,
		dnsNames: dns, ips: ips, validity: 10 * 24 * time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := writePair(filepath.Join(dir, "serving.crt"), filepath.Join(dir, "serving.key"), encodeCert(der), keyPEM); err != nil {
		t.Fatal(err)
	}
	return ca
}

func replaceCA(t *testing.T, dir string, _ *CA) *CA {
	t.Helper()
	os.Remove(filepath.Join(dir, "ca.crt"))
	os.Remove(filepath.Join(dir, "ca.key"))
	return mustCA(t, dir)
}

func corruptServing(t *testing.T, dir string, ca *CA) *CA {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "serving.crt"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestWantedSANsRejectsGarbage(t *testing.T) {
	tests := []struct {
		extra   string
		wantErr bool
	}{
		{"10.96.0.1", false},
		{"fd00::1", false},
		{"node-1.example", false},
		{"https://x", true},
		{"a b", true},
	}
	for _, tt := range tests {
		_, _, err := wantedSANs([]string{tt.extra})
		if (err != nil) != tt.wantErr {
			t.Errorf("wantedSANs(%q) err = %v, wantErr %v", tt.extra, err, tt.wantErr)
		}
	}
}

func TestEnsureClient(t *testing.T) {
	dir := t.TempDir()
	ca := mustCA(t, dir)
	certPEM, keyPEM, err := ca.EnsureClient(dir, "admin", "admin", []string{"system:masters"})
	if err != nil {
		t.Fatalf("EnsureClient: %v", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatalf("returned PEM is not a key pair: %v", err)
	}
	leaf := pair.Leaf
	if leaf.Subject.CommonName != "admin" || !slices.Equal(leaf.Subject.Organization, []string{"system:masters"}) {
		t.Errorf("subject = %v, want CN=admin O=system:masters", leaf.Subject)
	}
	if !ca.verifies(leaf, x509.ExtKeyUsageClientAuth, time.Now()) {
		t.Error("client cert does not verify for client auth")
	}
	if ca.verifies(leaf, x509.ExtKeyUsageServerAuth, time.Now()) {
		t.Error("client cert must not be usable for server auth")
	}
	assertMode(t, filepath.Join(dir, "admin.key"), 0o600)

	tests := []struct {
		name    string
		user    string
		groups  []string
		reissue bool
	}{
		{"same identity reused", "admin", []string{"system:masters"}, false},
		{"group change reissued", "admin", []string{"system:masters", "ops"}, true},
		{"user change reissued", "root", []string{"system:masters", "ops"}, true},
		{"group order ignored", "root", []string{"ops", "system:masters"}, false},
	}
	prev := leaf.SerialNumber
	for _, tt := range tests {
		c, k, err := ca.EnsureClient(dir, "admin", tt.user, tt.groups)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		p, err := tls.X509KeyPair(c, k)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := p.Leaf.SerialNumber.Cmp(prev) != 0; got != tt.reissue {
			t.Errorf("%s: reissued = %v, want %v", tt.name, got, tt.reissue)
		}
		if p.Leaf.Subject.CommonName != tt.user {
			t.Errorf("%s: CN = %q, want %q", tt.name, p.Leaf.Subject.CommonName, tt.user)
		}
		prev = p.Leaf.SerialNumber
	}
}

func TestEnsureClientRejectsBadName(t *testing.T) {
	dir := t.TempDir()
	ca := mustCA(t, dir)
	for _, name := range []string{"", "../evil", "a/b"} {
		if _, _, err := ca.EnsureClient(dir, name, "u", nil); err == nil {
			t.Errorf("EnsureClient(name=%q) succeeded", name)
		}
	}
	if _, _, err := ca.EnsureClient(dir, "x", "", nil); err == nil {
		t.Error("EnsureClient with empty user succeeded")
	}
}

func TestEnsureToken(t *testing.T) {
	dir := t.TempDir()
	tok, err := EnsureToken(dir)
	if err != nil {
		t.Fatalf("EnsureToken: %v", err)
	}
	raw, err := hex.DecodeString(tok)
	if err != nil || len(raw) != 32 {
		t.Fatalf("token %q is not 32 bytes of hex (err %v)", tok, err)
	}
	assertMode(t, filepath.Join(dir, "token"), 0o600)
	again, err := EnsureToken(dir)
	if err != nil || again != tok {
		t.Errorf("second EnsureToken = %q, %v; want reuse of %q", again, err, tok)
	}
	other, err := EnsureToken(t.TempDir())
	if err != nil || other == tok {
		t.Errorf("tokens in different dirs must differ: %q vs %q (%v)", other, tok, err)
	}
}

func TestServerTLSConfig(t *testing.T) {
	dir := t.TempDir()
	ca := mustCA(t, dir)
	serving, err := ca.EnsureServing(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := ServerTLSConfig(serving, ca.Pool())
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion = %x", cfg.MinVersion)
	}
	if cfg.ClientAuth != tls.RequestClientCert {
		t.Errorf("ClientAuth = %v", cfg.ClientAuth)
	}
	if !slices.Equal(cfg.NextProtos, []string{"h2", "http/1.1"}) {
		t.Errorf("NextProtos = %v", cfg.NextProtos)
	}
	if len(cfg.Certificates) != 1 || cfg.ClientCAs == nil {
		t.Errorf("certificates/client CAs not set")
	}
}
