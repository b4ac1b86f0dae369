package pki

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"path/filepath"
	"slices"
	"time"
)

// EnsureClient loads or creates <dir>/<name>.crt and <dir>/<name>.key: a
// client certificate signed by ca whose CN is user and whose O entries are
// groups, which is how Kubernetes maps certificates to identities (the
// admin certificate is CN "admin", O "system:masters"). An existing
// certificate is re-issued when its identity differs, it was not signed by
// ca, or it expires within 30 days.
func (ca *CA) EnsureClient(dir, name, user string, groups []string) (certPEM, keyPEM []byte, err error) {
	if name == "" || filepath.Base(name) != name {
		return nil, nil, fmt.Errorf("invalid client certificate name %q", name)
	}
	if user == "" {
		return nil, nil, fmt.Errorf("client certificate %q: user must not be empty", name)
	}
	certPath, keyPath := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	existing, err := loadLeaf(certPath, keyPath)
	if err != nil {
		return nil, nil, err
	}
	if ca.usable(existing, x509.ExtKeyUsageClientAuth, time.Now()) && hasIdentity(existing.cert, user, groups) {
		return existing.certPEM, existing.keyPEM, nil
	}
	certPEM, keyPEM, err = ca.issueAndStore(certPath, keyPath, leafSpec{
		subject: pkix.Name{CommonName: user, Organization: slices.Clone(groups)},
		usage:   x509.ExtKeyUsageClientAuth,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("issue client certificate %q: %w", name, err)
	}
	return certPEM, keyPEM, nil
}

// hasIdentity compares groups as a set: order in O carries no meaning.
func hasIdentity(cert *x509.Certificate, user string, groups []string) bool {
	if cert.Subject.CommonName != user {
		return false
	}
	have := slices.Sorted(slices.Values(cert.Subject.Organization))
	want := slices.Sorted(slices.Values(groups))
	return slices.Equal(slices.Compact(have), slices.Compact(want))
}
