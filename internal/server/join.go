package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/navarch/navarch/internal/agent/join"
	"github.com/navarch/navarch/internal/auth"
	"github.com/navarch/navarch/internal/pki"
)

// bootstrapUser is the identity of the join token (see setupPKI).
const bootstrapUser = "system:node-bootstrap"

// joinCAPath serves the cluster CA without credentials: joining agents
// fetch it and check it against their --ca-cert-hash pin before they send
// the token anywhere.
const joinCAPath = join.CAPath

// routes is the HTTPS handler behind authentication: the Kubernetes API,
// plus navarch's own endpoints for joining nodes. A request authenticated
// only by the join token reaches the join endpoint and nothing else.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(join.CAPath, s.serveJoinCA)
	mux.HandleFunc(join.Path, s.serveJoin)
	mux.Handle("/", s.api.Handler())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := auth.UserFrom(r.Context()); ok && u.Name == bootstrapUser && r.URL.Path != join.Path && r.URL.Path != join.CAPath {
			writeStatus(w, http.StatusForbidden, metav1.StatusReasonForbidden,
				fmt.Sprintf("forbidden: User %q cannot %s path %q: the join token is only good for joining nodes (%s)", u.Name, r.Method, r.URL.Path, join.Path))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) serveJoinCA(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeStatus(w, http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, "use GET")
		return
	}
	ca, err := pki.EnsureCA(filepath.Join(s.opts.DataDir, "pki"))
	if err != nil {
		writeStatus(w, http.StatusInternalServerError, metav1.StatusReasonInternalError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	_, _ = w.Write(ca.CertPEM)
}

// maxJoinBody bounds a join request (two CSRs).
const maxJoinBody = 64 << 10

// serveJoin signs a node's CSRs. The join token may ask for any node
// name (it is the credential to add nodes); a node's own certificate may
// renew only its own identity.
func (s *Server) serveJoin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeStatus(w, http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, "use POST")
		return
	}
	var req join.Request
	if err := json.NewDecoder(io.LimitReader(r.Body, maxJoinBody)).Decode(&req); err != nil {
		writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, "join request: "+err.Error())
		return
	}
	u, _ := auth.UserFrom(r.Context())
	if u.Name != bootstrapUser && u.Name != join.UserPrefix+req.NodeName {
		writeStatus(w, http.StatusForbidden, metav1.StatusReasonForbidden,
			fmt.Sprintf("forbidden: User %q may not join node %q (use the join token)", u.Name, req.NodeName))
		return
	}
	resp, err := s.signNode(req)
	if err != nil {
		writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, err.Error())
		return
	}
	s.log.Info("node credentials issued", "node", req.NodeName, "by", u.Name, "remote", r.RemoteAddr)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// signNode signs a join request with the cluster CA on disk.
func (s *Server) signNode(req join.Request) (*join.Response, error) {
	ca, err := pki.EnsureCA(filepath.Join(s.opts.DataDir, "pki"))
	if err != nil {
		return nil, err
	}
	return join.Sign(join.CA{Cert: ca.Cert, Key: ca.Key, CertPEM: ca.CertPEM}, req)
}

// writeStatus answers with a metav1.Status, as every API error.
func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	b, err := json.Marshal(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status: metav1.StatusFailure, Message: msg, Reason: reason, Code: int32(code)})
	if err != nil {
		b = []byte(errors.New(msg).Error())
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
