package auth

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

type clientCert struct {
	pool *x509.CertPool
	now  func() time.Time

	// verified remembers chains already checked, keyed by the raw chain, so
	// that a signature check (a fifth of the CPU of a create) runs once per
	// client certificate rather than once per request.
	mu       sync.Mutex
	verified map[string]User
}

// maxVerified bounds the verification cache; it is cleared when full.
const maxVerified = 4096

// NewClientCert authenticates requests by their TLS client certificate. The
// chain is verified here against pool for client-auth usage, independently
// of the TLS layer, so the check holds whatever ClientAuth mode the server
// runs with. The user is the certificate's CN and the groups its O entries.
func NewClientCert(pool *x509.CertPool) Authenticator {
	return &clientCert{pool: pool, now: time.Now, verified: map[string]User{}}
}

func (c *clientCert) Authenticate(r *http.Request) (User, bool, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return User{}, false, nil
	}
	leaf := r.TLS.PeerCertificates[0]
	now := c.now()
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return c.verify(r.TLS.PeerCertificates, now)
	}
	key := chainKey(r.TLS.PeerCertificates)
	c.mu.Lock()
	u, ok := c.verified[key]
	c.mu.Unlock()
	if ok {
		return u, true, nil
	}
	u, ok, err := c.verify(r.TLS.PeerCertificates, now)
	if ok {
		c.mu.Lock()
		if len(c.verified) >= maxVerified {
			clear(c.verified)
		}
		c.verified[key] = u
		c.mu.Unlock()
	}
	return u, ok, err
}

func chainKey(chain []*x509.Certificate) string {
	var b strings.Builder
	for _, c := range chain {
		b.Write(c.Raw)
	}
	return b.String()
}

// verify checks the chain up to the pool for client-auth usage.
func (c *clientCert) verify(chain []*x509.Certificate, now time.Time) (User, bool, error) {
	leaf := chain[0]
	opts := x509.VerifyOptions{
		Roots:         c.pool,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, ic := range chain[1:] {
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
