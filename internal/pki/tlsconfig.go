package pki

import (
	"crypto/tls"
	"crypto/x509"
)

// ServerTLSConfig is the API server's TLS configuration: TLS 1.2+, HTTP/2
// offered first (client-go prefers it), client certificates optional.
//
// ClientAuth is tls.RequestClientCert, not VerifyClientCertIfGiven: with the
// latter a certificate from another CA (e.g. a kubeconfig from a different
// navarch cluster, whose CA has the same "navarch-ca" subject so clients do
// send it) aborts the handshake with a TLS alert, whereas kube-apiserver
// completes the handshake and answers 401 Unauthorized. The chain is instead
// verified by internal/auth's client-certificate authenticator, so every
// handler MUST sit behind auth.Middleware. ClientCAs is still set because it
// is advertised to clients as the list of acceptable issuers.
func ServerTLSConfig(serving tls.Certificate, clientCAs *x509.CertPool) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{serving},
		ClientCAs:    clientCAs,
		ClientAuth:   tls.RequestClientCert,
		NextProtos:   []string{"h2", "http/1.1"},
	}
}
