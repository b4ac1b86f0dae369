package auth

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"slices"
	"time"
)

type clientCert struct {
	pool *x509.CertPool
	now  func() time.Time
}

// NewClientCert authenticates requests by their TLS client certificate. The
// chain is verified here against pool for client-auth usage, independently
// of the TLS layer, so the check holds whatever ClientAuth mode the server
// runs with. The user is the certificate's CN and the groups its O entries.
func NewClientCert(pool *x509.CertPool) Authenticator {
	return &clientCert{pool: pool, now: time.Now}
}

func (c *clientCert) Authenticate(r *http.Request) (User, bool, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return User{}, false, nil
	}
	leaf := r.TLS.PeerCertificates[0]
	opts := x509.VerifyOptions{
		Roots:         c.pool,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   c.now(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, ic := range r.TLS.PeerCertificates[1:] {
		opts.Intermediates.AddCert(ic)
	}
	if _, err := leaf.Verify(opts); err != nil {
		return User{}, false, fmt.Errorf("verify client certificate %q: %w", leaf.Subject.CommonName, err)
	}
	if leaf.Subject.CommonName == "" {
		return User{}, false, fmt.Errorf("client certificate has an empty common name")
	}
	return User{
		Name:   leaf.Subject.CommonName,
		Groups: slices.Clone(leaf.Subject.Organization),
	}, true, nil
}
