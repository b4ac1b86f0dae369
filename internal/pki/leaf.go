package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"time"
)

const (
	leafValidity = 365 * 24 * time.Hour
	// renewBefore is how close to expiry a leaf may get before it is
	// re-issued on start.
	renewBefore = 30 * 24 * time.Hour
)

// leafSpec describes a certificate the CA should issue.
type leafSpec struct {
	subject  pkix.Name
	usage    x509.ExtKeyUsage
	dnsNames []string
	ips      []net.IP
	validity time.Duration
}

// issue creates a fresh key and a certificate for it signed by ca.
func (ca *CA) issue(spec leafSpec) (der []byte, key crypto.Signer, err error) {
	k, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	validity := spec.validity
	if validity == 0 {
		validity = leafValidity
	}
	now := time.Now()
	notAfter := now.Add(validity)
	// A leaf outliving its CA would fail verification anyway; cap it so the
	// renewal check fires in time.
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               spec.subject,
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{spec.usage},
		BasicConstraintsValid: true,
		DNSNames:              spec.dnsNames,
		IPAddresses:           spec.ips,
		AuthorityKeyId:        ca.Cert.SubjectKeyId,
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, k.Public(), ca.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("sign certificate %q: %w", spec.subject.CommonName, err)
	}
	return der, k, nil
}

// loadedLeaf is a certificate/key pair read back from disk.
type loadedLeaf struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
	keyPEM  []byte
}

// loadLeaf reads a pair from disk. It returns nil (and no error) when the
// pair is missing, unreadable as a pair or mismatched, because in all those
// cases the right response is to issue a new one.
func loadLeaf(certPath, keyPath string) (*loadedLeaf, error) {
	certPEM, err := readOptional(certPath)
	if err != nil {
		return nil, err
	}
	keyPEM, err := readOptional(keyPath)
	if err != nil {
		return nil, err
	}
	if certPEM == nil || keyPEM == nil {
		return nil, nil
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, nil
	}
	key, err := parseKey(keyPEM)
	if err != nil || !keyMatches(cert, key) {
		return nil, nil
	}
	return &loadedLeaf{cert: cert, key: key, certPEM: certPEM, keyPEM: keyPEM}, nil
}

// usable reports whether an existing leaf may be kept: signed by this CA,
// valid for the usage, and not about to expire.
func (ca *CA) usable(l *loadedLeaf, usage x509.ExtKeyUsage, now time.Time) bool {
	if l == nil || !ca.verifies(l.cert, usage, now) {
		return false
	}
	return now.Add(renewBefore).Before(l.cert.NotAfter)
}

// issueAndStore issues a leaf and writes it to disk, returning the PEM data.
func (ca *CA) issueAndStore(certPath, keyPath string, spec leafSpec) (certPEM, keyPEM []byte, err error) {
	der, key, err := ca.issue(spec)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	certPEM = encodeCert(der)
	if err := writePair(certPath, keyPath, certPEM, keyPEM); err != nil {
		return nil, nil, err
	}
	return certPEM, keyPEM, nil
}
