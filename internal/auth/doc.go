// Package auth authenticates API requests the way kube-apiserver does:
// X.509 client certificates (CN is the user, O entries are groups) and
// static bearer tokens, combined by Union and enforced by Middleware, which
// answers failures with the same 401 Status body Kubernetes sends.
//
// It only establishes who the caller is. It must not decide what the caller
// may do (authorization belongs elsewhere), and it must not issue or store
// credentials (that is internal/pki).
package auth
