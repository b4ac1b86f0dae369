package join

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// certValidity is how long node certificates last; agents renew them when
// less than renewBefore is left.
const (
	certValidity = 365 * 24 * time.Hour
	renewBefore  = 30 * 24 * time.Hour
	backdate     = time.Hour
)

// CA is what Sign needs of the cluster CA.
type CA struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
}

// Sign validates a join request and signs both CSRs. It accepts only the
// node identity for req.NodeName: the client certificate may carry no
// names, the serving certificate only DNS names and IP addresses.
func Sign(ca CA, req Request) (*Response, error) {
	if errs := validation.IsDNS1123Subdomain(req.NodeName); len(errs) > 0 {
		return nil, fmt.Errorf("invalid node name %q: %v", req.NodeName, errs)
	}
	client, err := parseCSR(req.ClientCSR, req.NodeName)
	if err != nil {
		return nil, fmt.Errorf("client CSR: %w", err)
	}
	if len(client.DNSNames)+len(client.IPAddresses)+len(client.EmailAddresses)+len(client.URIs) > 0 {
		return nil, errors.New("client CSR: a node client certificate carries no subject alternative names")
	}
	serving, err := parseCSR(req.ServingCSR, req.NodeName)
	if err != nil {
		return nil, fmt.Errorf("serving CSR: %w", err)
	}
	if len(serving.EmailAddresses)+len(serving.URIs) > 0 || len(serving.DNSNames)+len(serving.IPAddresses) == 0 {
		return nil, errors.New("serving CSR: want DNS names and IP addresses only")
	}
	for _, d := range serving.DNSNames {
		if errs := validation.IsDNS1123Subdomain(d); len(errs) > 0 {
			return nil, fmt.Errorf("serving CSR: invalid DNS name %q", d)
		}
	}
	clientPEM, err := issue(ca, client, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, err
	}
	servingPEM, err := issue(ca, serving, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, err
	}
	return &Response{ClientCert: string(clientPEM), ServingCert: string(servingPEM), CA: string(ca.CertPEM)}, nil
}

// parseCSR checks the CSR's signature, key and subject.
func parseCSR(p, node string) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("want a PEM CERTIFICATE REQUEST")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("bad signature: %w", err)
	}
	switch k := csr.PublicKey.(type) {
	case *ecdsa.PublicKey, ed25519.PublicKey:
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, errors.New("RSA keys must have at least 2048 bits")
		}
	default:
		return nil, fmt.Errorf("unsupported key type %T", csr.PublicKey)
	}
	if csr.Subject.CommonName != UserPrefix+node || !slices.Equal(csr.Subject.Organization, []string{Group}) {
		return nil, fmt.Errorf("subject must be CN=%s%s, O=%s; got %q", UserPrefix, node, Group, csr.Subject.String())
	}
	return csr, nil
}

func issue(ca CA, csr *x509.CertificateRequest, usage x509.ExtKeyUsage) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	notAfter := now.Add(certValidity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial.Add(serial, big.NewInt(1)),
		Subject:               pkix.Name{CommonName: csr.Subject.CommonName, Organization: csr.Subject.Organization},
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{usage},
		BasicConstraintsValid: true,
		DNSNames:              csr.DNSNames,
		IPAddresses:           csr.IPAddresses,
		AuthorityKeyId:        ca.Cert.SubjectKeyId,
	}
	if _, ok := csr.PublicKey.(*rsa.PublicKey); ok {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, csr.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", csr.Subject.CommonName, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
