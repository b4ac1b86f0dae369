package join

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// Remote configures joining through a server's join endpoint.
type Remote struct {
	// Server is the API server URL.
	Server string
	// Token is the join token (the server's <data-dir>/pki/token).
	Token string
	// CAHash pins the server's CA ("sha256:..."); CAFile is the
	// alternative, a copy of the CA certificate. One of them is required.
	CAHash, CAFile string
	// Existing is the node's current client certificate, used instead of
	// the token to renew (may be empty).
	Existing *tls.Certificate
}

// Signer returns a Signer that fetches the CA, checks it against the pin,
// and only then sends the CSRs with the token over a connection verified
// against that CA.
func (r Remote) Signer() (Signer, error) {
	if r.Server == "" {
		return nil, errors.New("--server is required to join")
	}
	if r.Token == "" && r.Existing == nil {
		return nil, errors.New("--token is required to join")
	}
	if r.CAHash == "" && r.CAFile == "" {
		return nil, errors.New("--ca-cert-hash (printed by the server) or --ca-file is required: the token alone does not prove the server is genuine")
	}
	return func(ctx context.Context, req Request) (*Response, error) {
		ca, err := r.trustedCA(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := r.post(ctx, ca, req)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(bytes.TrimSpace([]byte(resp.CA)), bytes.TrimSpace(ca)) {
			return nil, errors.New("the server answered with a CA other than the one pinned")
		}
		return resp, nil
	}, nil
}

// trustedCA returns the CA the node trusts: from CAFile, or fetched from
// the server (unauthenticated: it is public) and checked against CAHash.
func (r Remote) trustedCA(ctx context.Context) ([]byte, error) {
	if r.CAFile != "" {
		b, err := os.ReadFile(r.CAFile)
		if err != nil {
			return nil, fmt.Errorf("--ca-file: %w", err)
		}
		if r.CAHash != "" {
			if err := checkPin(b, r.CAHash); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	// Nothing secret travels on this connection; what comes back is
	// verified against the pin before anything is trusted.
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // checked by pin below
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(r.Server, "/")+CAPath, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch the server's CA: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch the server's CA: %s %s", resp.Status, bytes.TrimSpace(b))
	}
	if err := checkPin(b, r.CAHash); err != nil {
		return nil, err
	}
	return b, nil
}

func (r Remote) post(ctx context.Context, ca []byte, jr Request) (*Response, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errors.New("the CA is not a PEM certificate")
	}
	tlsCfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if r.Existing != nil {
		tlsCfg.Certificates = []tls.Certificate{*r.Existing}
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	defer hc.CloseIdleConnections()
	body, _ := json.Marshal(jr)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(r.Server, "/")+Path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if r.Existing == nil {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("join %s: %w", r.Server, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("join %s: %s: %s", r.Server, resp.Status, bytes.TrimSpace(b))
	}
	var out Response
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("join %s: bad answer: %w", r.Server, err)
	}
	return &out, nil
}
