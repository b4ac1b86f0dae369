// Package join gives a node its identity: a client certificate for the
// API (CN system:node:<name>, O system:nodes) and a serving certificate
// for its kubelet port, both signed by the cluster CA from CSRs whose
// private keys never leave the node.
//
// The client side (Ensure, Remote) reuses valid certificates from disk and
// otherwise asks the server's join endpoint, authenticated by the join
// token or by the node's current certificate. The server is trusted only
// through a pin of its CA (--ca-cert-hash sha256:..., kubeadm's format) or
// a copy of the CA file: the token is never sent before the CA checked
// out. The server side (Sign) validates CSRs and signs them; the local
// agent of `navarch server` calls it directly.
//
// It must not talk to the Kubernetes API.
package join
