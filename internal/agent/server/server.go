// Package server is the node agent's HTTPS server (the kubelet port): it
// serves /healthz and mounts the streaming handler (logs, exec, attach,
// port-forward) behind client-certificate authentication against the
// cluster CA. Only the API server and administrators (group
// system:masters) may use the streaming endpoints; node identities may
// not reach other nodes' pods.
//
// It must not decide anything about pods; the handlers it mounts do.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Config configures the server.
type Config struct {
	// Address and Port to listen on; Port 0 lets the kernel choose.
	Address string
	Port    int
	// Certificate is the serving certificate (signed by the cluster CA,
	// covering the node's addresses and name).
	Certificate tls.Certificate
	// ClientCAs verifies client certificates.
	ClientCAs *x509.CertPool
	// Handler serves everything but /healthz (the streaming paths).
	Handler http.Handler
	// Healthy answers /healthz.
	Healthy func() error
	Logger  *slog.Logger
}

// allowedGroup may use the agent's API; the API server's kubelet client
// certificate (CN kube-apiserver-kubelet-client) carries it.
const allowedGroup = "system:masters"

// Server is the running HTTPS server.
type Server struct {
	ln   net.Listener
	http *http.Server
}

// Start listens and serves in the background.
func Start(cfg Config) (*Server, error) {
	addr := net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("kubelet server: listen on %s: %w", addr, err)
	}
	tlsCfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cfg.Certificate},
		ClientCAs:    cfg.ClientCAs,
		// /healthz is served without a certificate; everything else is
		// checked by authorize.
		ClientAuth: tls.VerifyClientCertIfGiven,
		NextProtos: []string{"h2", "http/1.1"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if cfg.Healthy != nil {
			if err := cfg.Healthy(); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		_, _ = w.Write([]byte("ok"))
	})
	if cfg.Handler != nil {
		mux.Handle("/", authorize(cfg.Handler))
	}
	s := &Server{ln: ln, http: &http.Server{Handler: mux, TLSConfig: tlsCfg, ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug)}}
	go func() {
		if err := s.http.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cfg.Logger.Error("kubelet server stopped", "err", err)
		}
	}()
	return s, nil
}

// Port is the port actually listened on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Stop closes the listener and open connections (streams included).
func (s *Server) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.http.Shutdown(ctx)
	_ = s.http.Close()
}

// authorize admits requests whose verified client certificate is in
// allowedGroup.
func authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		leaf := r.TLS.VerifiedChains[0][0]
		if !slices.Contains(leaf.Subject.Organization, allowedGroup) {
			http.Error(w, fmt.Sprintf("Forbidden (user=%s, verb=%s, resource=nodes, subresource=proxy)", leaf.Subject.CommonName, r.Method), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}
