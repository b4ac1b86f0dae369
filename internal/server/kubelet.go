package server

import (
	"crypto/tls"
	"fmt"
	"path/filepath"

	"github.com/navarch/navarch/internal/apiserver"
	"github.com/navarch/navarch/internal/pki"
)

// kubeletClientName is the identity the API server presents to node
// agents, as kubeadm names it; system:masters lets agents authorize it.
const kubeletClientName = "kube-apiserver-kubelet-client"

// kubeletClient builds the API server's client for node agents (pods/log,
// exec, attach, portforward): a client certificate from the cluster CA,
// and that CA as the only root for the agents' serving certificates. On
// failure the server still starts; those subresources answer 503.
func (s *Server) kubeletClient() *apiserver.KubeletClient {
	cfg, err := kubeletTLS(filepath.Join(s.opts.DataDir, "pki"))
	if err != nil {
		s.log.Error("no client for node agents: pods/log, exec, attach and portforward are unavailable", "err", err)
		return nil
	}
	return &apiserver.KubeletClient{TLS: cfg}
}

func kubeletTLS(dir string) (*tls.Config, error) {
	ca, err := pki.EnsureCA(dir)
	if err != nil {
		return nil, err
	}
	certPEM, keyPEM, err := ca.EnsureClient(dir, kubeletClientName, kubeletClientName, []string{"system:masters"})
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("kubelet client certificate: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, RootCAs: ca.Pool()}, nil
}
