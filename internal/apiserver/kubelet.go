package apiserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/navarch/navarch/internal/registry/store"
)

// defaultKubeletPort is where a node agent listens when its Node does not
// say (status.daemonEndpoints.kubeletEndpoint.port), as upstream assumes.
const defaultKubeletPort = 10250

// KubeletClient is how the API server reaches node agents for pods/log,
// pods/exec, pods/attach and pods/portforward.
type KubeletClient struct {
	// TLS carries the API server's client certificate (CN
	// kube-apiserver-kubelet-client) and, as RootCAs, the CA that signs the
	// agents' serving certificates.
	TLS *tls.Config
	// DialTimeout bounds connecting to an agent (default 10s).
	DialTimeout time.Duration

	once      sync.Once
	transport *http.Transport
}

func (k *KubeletClient) init() {
	k.once.Do(func() {
		if k.DialTimeout == 0 {
			k.DialTimeout = 10 * time.Second
		}
		cfg := k.tlsConfig()
		k.transport = &http.Transport{
			DialContext:         (&net.Dialer{Timeout: k.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:     cfg,
			TLSHandshakeTimeout: k.DialTimeout,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
			// Agents are never reached through a proxy.
			Proxy: nil,
		}
	})
}

// tlsConfig speaks HTTP/1.1 only: upgrades need it, and logs gain nothing
// from HTTP/2.
func (k *KubeletClient) tlsConfig() *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if k.TLS != nil {
		cfg = k.TLS.Clone()
	}
	cfg.NextProtos = []string{"http/1.1"}
	return cfg
}

// dial opens a TLS connection to an agent for an upgraded stream.
func (k *KubeletClient) dial(ctx context.Context, hostport string) (net.Conn, error) {
	k.init()
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: k.DialTimeout}, Config: k.tlsConfig()}
	return d.DialContext(ctx, "tcp", hostport)
}

var nodesGVR = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}

// kubeletURL locates the agent of node nodeName and returns the URL of
// path (with query) on it.
func (s *Server) kubeletURL(ctx context.Context, nodeName, path string, query url.Values) (*url.URL, error) {
	if s.cfg.Kubelet == nil {
		return nil, apierrors.NewServiceUnavailable("this server has no client for node agents")
	}
	st, ok := s.cfg.Stores[nodesGVR]
	if !ok {
		return nil, apierrors.NewServiceUnavailable("nodes are not served")
	}
	obj, err := st.Get(ctx, "", nodeName, store.GetOptions{})
	if err != nil {
		return nil, err
	}
	node := obj.(*corev1.Node)
	host, err := nodeAddress(node)
	if err != nil {
		return nil, err
	}
	port := int(node.Status.DaemonEndpoints.KubeletEndpoint.Port)
	if port == 0 {
		port = defaultKubeletPort
	}
	return &url.URL{Scheme: "https", Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: path, RawQuery: query.Encode()}, nil
}

// nodeAddress prefers the InternalIP, then the other kinds in upstream's
// default order.
func nodeAddress(node *corev1.Node) (string, error) {
	for _, t := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeHostName, corev1.NodeInternalDNS,
		corev1.NodeExternalDNS, corev1.NodeExternalIP} {
		for _, a := range node.Status.Addresses {
			if a.Type == t && a.Address != "" {
				return a.Address, nil
			}
		}
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("node %s has no address", node.Name))
}

// kubeletError is a failure to reach an agent: a 500 carrying the
// transport's message, which kubectl prints after "Error from server:".
func kubeletError(err error) error {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		return err
	}
	return &apierrors.StatusError{ErrStatus: statusForCode(http.StatusInternalServerError, err.Error())}
}
