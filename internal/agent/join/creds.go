package join

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Credentials are a node's certificates on disk, in Dir.
type Credentials struct {
	Dir string
	// CAPEM is the cluster CA; Client is the node's API identity; Serving
	// the kubelet port's certificate.
	CAPEM   []byte
	Client  tls.Certificate
	Serving tls.Certificate
}

// Identity is what the node's certificates must say.
type Identity struct {
	NodeName string
	// DNSNames and IPs are the serving certificate's subject alternative
	// names (host name, node addresses).
	DNSNames []string
	IPs      []net.IP
}

// Signer turns a join request into certificates.
type Signer func(ctx context.Context, req Request) (*Response, error)

// File names inside Dir.
const (
	caFile         = "ca.crt"
	clientCertFile = "node.crt"
	clientKeyFile  = "node.key"
	servingCrtFile = "kubelet.crt"
	servingKeyFile = "kubelet.key"
	// KubeconfigFile is a kubeconfig with the node's identity, for the
	// operator's use (kubectl --kubeconfig).
	KubeconfigFile = "node.kubeconfig"
)

// Load returns the credentials in dir if they are complete, valid for id
// and not about to expire.
func Load(dir string, id Identity) (*Credentials, bool) {
	ca, err := os.ReadFile(filepath.Join(dir, caFile))
	if err != nil {
		return nil, false
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, false
	}
	client, ok := loadPair(dir, clientCertFile, clientKeyFile, pool, x509.ExtKeyUsageClientAuth)
	if !ok || client.Leaf.Subject.CommonName != UserPrefix+id.NodeName {
		return nil, false
	}
	serving, ok := loadPair(dir, servingCrtFile, servingKeyFile, pool, x509.ExtKeyUsageServerAuth)
	if !ok || !covers(serving.Leaf, id) {
		return nil, false
	}
	return &Credentials{Dir: dir, CAPEM: ca, Client: client, Serving: serving}, true
}

func loadPair(dir, certName, keyName string, pool *x509.CertPool, usage x509.ExtKeyUsage) (tls.Certificate, bool) {
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, certName), filepath.Join(dir, keyName))
	if err != nil || pair.Leaf == nil {
		return tls.Certificate{}, false
	}
	if _, err := pair.Leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return tls.Certificate{}, false
	}
	if time.Until(pair.Leaf.NotAfter) < renewBefore {
		return tls.Certificate{}, false
	}
	return pair, true
}

func covers(c *x509.Certificate, id Identity) bool {
	for _, d := range id.DNSNames {
		if !slices.Contains(c.DNSNames, d) {
			return false
		}
	}
	for _, ip := range id.IPs {
		if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

// Ensure returns valid credentials for id, asking sign for new ones when
// those on disk are missing, for another identity, or expiring.
func Ensure(ctx context.Context, dir string, id Identity, sign Signer) (*Credentials, error) {
	if c, ok := Load(dir, id); ok {
		return c, nil
	}
	if sign == nil {
		return nil, errors.New("no valid node certificates and no way to get them (give --server and --token to join)")
	}
	clientKey, clientCSR, err := newCSR(id.NodeName, nil, nil)
	if err != nil {
		return nil, err
	}
	servingKey, servingCSR, err := newCSR(id.NodeName, id.DNSNames, id.IPs)
	if err != nil {
		return nil, err
	}
	resp, err := sign(ctx, Request{NodeName: id.NodeName, ClientCSR: string(clientCSR), ServingCSR: string(servingCSR)})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// Keys first: a crash in between leaves certificates that do not
	// match their keys, which Load treats as missing.
	for _, f := range []struct {
		name string
		data []byte
		mode fs.FileMode
	}{
		{clientKeyFile, clientKey, 0o600}, {servingKeyFile, servingKey, 0o600},
		{caFile, []byte(resp.CA), 0o644}, {clientCertFile, []byte(resp.ClientCert), 0o644}, {servingCrtFile, []byte(resp.ServingCert), 0o644},
	} {
		if err := writeAtomic(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return nil, err
		}
	}
	c, ok := Load(dir, id)
	if !ok {
		return nil, errors.New("the server's certificates do not match this node's request")
	}
	return c, nil
}

func newCSR(node string, dns []string, ips []net.IP) (keyPEM, csrPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: UserPrefix + node, Organization: []string{Group}}, DNSNames: dns, IPAddresses: ips,
	}, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// RestConfig reaches server with the node's client certificate only.
func (c *Credentials) RestConfig(server string) *rest.Config {
	return &rest.Config{Host: server, TLSClientConfig: rest.TLSClientConfig{
		CAData:   c.CAPEM,
		CertFile: filepath.Join(c.Dir, clientCertFile),
		KeyFile:  filepath.Join(c.Dir, clientKeyFile),
	}}
}

// ClientCAs is a pool of the cluster CA.
func (c *Credentials) ClientCAs() *x509.CertPool {
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(c.CAPEM)
	return p
}

// WriteKubeconfig writes Dir/node.kubeconfig for server.
func (c *Credentials) WriteKubeconfig(server, node string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["navarch"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: c.CAPEM}
	cfg.AuthInfos[UserPrefix+node] = &clientcmdapi.AuthInfo{
		ClientCertificate: filepath.Join(c.Dir, clientCertFile), ClientKey: filepath.Join(c.Dir, clientKeyFile)}
	cfg.Contexts["navarch"] = &clientcmdapi.Context{Cluster: "navarch", AuthInfo: UserPrefix + node}
	cfg.CurrentContext = "navarch"
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	return writeAtomic(filepath.Join(c.Dir, KubeconfigFile), b, 0o600)
}
