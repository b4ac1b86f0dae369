// Package pki owns navarch's on-disk certificate material: the cluster CA,
// the API server's serving certificate, client certificates, the admin
// kubeconfig and the node join token.
//
// Every Ensure* function is idempotent: it reuses what is on disk when it is
// still valid and (re)creates it otherwise, so the server can call them on
// every start. Private keys are written with mode 0600 and all files are
// replaced atomically (temp file + rename) so a crash never leaves a torn
// file behind.
//
// This package must not make authentication or authorization decisions
// (that is internal/auth) and must not talk to the network: it only builds
// and stores credentials.
package pki
