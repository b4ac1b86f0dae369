package pki

import (
	"fmt"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const (
	kubeconfigCluster = "navarch"
	kubeconfigUser    = "admin"
	kubeconfigContext = "navarch"
)

// WriteKubeconfig writes a kubeconfig with cluster "navarch" (serverURL and
// the CA inline), user "admin" (client certificate and key inline) and
// context "navarch" selected. The file holds a private key, so it is mode
// 0600, and it is replaced atomically so a concurrently running kubectl
// never reads half a file.
func WriteKubeconfig(path, serverURL string, caPEM, certPEM, keyPEM []byte) error {
	cfg := clientcmdapi.NewConfig()
	cluster := clientcmdapi.NewCluster()
	cluster.Server = serverURL
	cluster.CertificateAuthorityData = caPEM
	cfg.Clusters[kubeconfigCluster] = cluster

	user := clientcmdapi.NewAuthInfo()
	user.ClientCertificateData = certPEM
	user.ClientKeyData = keyPEM
	cfg.AuthInfos[kubeconfigUser] = user

	kctx := clientcmdapi.NewContext()
	kctx.Cluster = kubeconfigCluster
	kctx.AuthInfo = kubeconfigUser
	cfg.Contexts[kubeconfigContext] = kctx
	cfg.CurrentContext = kubeconfigContext

	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("serialize kubeconfig: %w", err)
	}
	if err := writeFileAtomic(path, data, keyMode); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}
