package join

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

func testCA(t *testing.T) CA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return CA{Cert: cert, Key: key, CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func csr(t *testing.T, cn string, orgs []string, dns []string, ips []net.IP) string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn, Organization: orgs},
		DNSNames: dns, IPAddresses: ips}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func TestSign(t *testing.T) {
	ca := testCA(t)
	lo := []net.IP{net.IPv4(127, 0, 0, 1)}
	good := func() Request {
		return Request{NodeName: "n1", ClientCSR: csr(t, "system:node:n1", []string{"system:nodes"}, nil, nil),
			ServingCSR: csr(t, "system:node:n1", []string{"system:nodes"}, []string{"n1"}, lo)}
	}
	for _, tc := range []struct {
		name   string
		mutate func(*Request)
		err    string
	}{
		{"valid", func(*Request) {}, ""},
		{"bad node name", func(r *Request) { r.NodeName = "N_1" }, "invalid node name"},
		{"client for another node", func(r *Request) { r.ClientCSR = csr(t, "system:node:n2", []string{"system:nodes"}, nil, nil) }, "subject must be"},
		{"client asks for masters", func(r *Request) {
			r.ClientCSR = csr(t, "system:node:n1", []string{"system:nodes", "system:masters"}, nil, nil)
		}, "subject must be"},
		{"client with SANs", func(r *Request) { r.ClientCSR = csr(t, "system:node:n1", []string{"system:nodes"}, []string{"x"}, nil) }, "no subject alternative"},
		{"serving without SANs", func(r *Request) { r.ServingCSR = csr(t, "system:node:n1", []string{"system:nodes"}, nil, nil) }, "DNS names and IP"},
		{"not PEM", func(r *Request) { r.ServingCSR = "junk" }, "PEM CERTIFICATE REQUEST"},
	} {
		req := good()
		tc.mutate(&req)
		resp, err := Sign(ca, req)
		if tc.err == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			cert, _ := parseCert([]byte(resp.ClientCert))
			if cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth || cert.Subject.CommonName != "system:node:n1" {
				t.Errorf("%s: client certificate %+v", tc.name, cert.Subject)
			}
			srv, _ := parseCert([]byte(resp.ServingCert))
			if srv.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth || !srv.IPAddresses[0].Equal(lo[0]) {
				t.Errorf("%s: serving certificate %v", tc.name, srv.IPAddresses)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.err)
		}
	}
}

func TestCheckPin(t *testing.T) {
	ca := testCA(t)
	pin, err := CAHash(ca.CertPEM)
	if err != nil || !strings.HasPrefix(pin, "sha256:") || len(pin) != 71 {
		t.Fatalf("CAHash = %q, %v", pin, err)
	}
	if err := checkPin(ca.CertPEM, pin); err != nil {
		t.Errorf("own pin: %v", err)
	}
	if err := checkPin(ca.CertPEM, strings.ToUpper(pin[7:])); err == nil {
		t.Error("a pin without sha256: was accepted")
	}
	if err := checkPin(testCA(t).CertPEM, pin); err == nil {
		t.Error("another CA matched the pin")
	}
}
