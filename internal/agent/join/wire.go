package join

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// Paths of navarch's join endpoints on the API server. CAPath is public:
// the CA is not a secret, and the client checks it against its pin.
const (
	Path   = "/navarch/v1/join"
	CAPath = "/navarch/v1/join/ca"
)

// Request asks for a node's certificates.
type Request struct {
	NodeName string `json:"nodeName"`
	// ClientCSR and ServingCSR are PEM CERTIFICATE REQUESTs.
	ClientCSR  string `json:"clientCSR"`
	ServingCSR string `json:"servingCSR"`
}

// Response carries the signed certificates and the CA, all PEM.
type Response struct {
	ClientCert  string `json:"clientCert"`
	ServingCert string `json:"servingCert"`
	CA          string `json:"ca"`
}

// UserPrefix and Group are the node identity's CN prefix and O.
const (
	UserPrefix = "system:node:"
	Group      = "system:nodes"
)

// CAHash is the pin of a CA certificate: "sha256:" and the hex SHA-256 of
// its SubjectPublicKeyInfo, as kubeadm's --discovery-token-ca-cert-hash.
func CAHash(caPEM []byte) (string, error) {
	cert, err := parseCert(caPEM)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// checkPin compares a CA with a pin.
func checkPin(caPEM []byte, pin string) error {
	algo, want, ok := strings.Cut(strings.TrimSpace(pin), ":")
	if !ok || !strings.EqualFold(algo, "sha256") || len(want) != sha256.Size*2 {
		return fmt.Errorf("--ca-cert-hash %q: want sha256:<64 hex digits>", pin)
	}
	got, err := CAHash(caPEM)
	if err != nil {
		return err
	}
	if !strings.EqualFold(got, "sha256:"+want) {
		return fmt.Errorf("the server's CA (%s) does not match --ca-cert-hash %s: refusing to send the join token", got, pin)
	}
	return nil
}

func parseCert(b []byte) (*x509.Certificate, error) {
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no certificate in PEM data")
		}
		if block.Type == "CERTIFICATE" {
			return x509.ParseCertificate(block.Bytes)
		}
	}
}
