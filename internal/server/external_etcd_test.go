package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/navarch/navarch/internal/storage"
	"github.com/navarch/navarch/internal/testutil/etcdcluster"
)

// TestServerOnExternalEtcd runs navarch against a three-member etcd cluster
// over TLS and keeps serving writes after the etcd leader dies.
func TestServerOnExternalEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	cluster := etcdcluster.Start(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	opts := DefaultOptions()
	opts.DataDir = t.TempDir()
	opts.BindAddress = "127.0.0.1"
	opts.Port = freeTCPPort(t)
	opts.EtcdServers = cluster.Endpoints()
	opts.EtcdCAFile, opts.EtcdCertFile, opts.EtcdKeyFile = cluster.PKI.CA, cluster.PKI.ClientCert, cluster.PKI.ClientKey
	s, err := Start(ctx, opts, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("start on external etcd: %v", err)
	}
	t.Cleanup(func() { cancel(); s.Stop() })
	if _, err := os.Stat(filepath.Join(opts.DataDir, "etcd")); !os.IsNotExist(err) {
		t.Errorf("an embedded etcd data dir exists although external etcd was configured (stat: %v)", err)
	}
	cs := clientsetFor(t, s.Kubeconfig)
	cms := cs.CoreV1().ConfigMaps("default")
	w, err := cms.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer w.Stop()
	created, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ext"}, Data: map[string]string{"a": "1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	waitEvent(t, w, watch.Added, "ext")
	stale := created.DeepCopy()
	created.Data["a"] = "2"
	if _, err := cms.Update(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update: %v", err)
	}
	waitEvent(t, w, watch.Modified, "ext")
	stale.Data["a"] = "3"
	if _, err := cms.Update(ctx, stale, metav1.UpdateOptions{}); err == nil {
		t.Fatal("update with a stale resourceVersion succeeded, want 409 Conflict")
	}

	emb, err := storage.Dial(ctx, storage.ClientConfig{Endpoints: cluster.Endpoints(), CAFile: cluster.PKI.CA,
		CertFile: cluster.PKI.ClientCert, KeyFile: cluster.PKI.ClientKey, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("dial etcd: %v", err)
	}
	defer emb.Close()
	cluster.KillLeader(t, emb)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "after-failover"}}, metav1.CreateOptions{})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no successful create within 30s of killing the etcd leader: %v", err)
		}
		time.Sleep(200 * time.Millisecond) // pacing retries during the etcd election
	}
	if _, err := cms.Get(ctx, "after-failover", metav1.GetOptions{}); err != nil {
		t.Fatalf("get after failover: %v", err)
	}
}

func waitEvent(t *testing.T, w watch.Interface, typ watch.EventType, name string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed while waiting for %s %s", typ, name)
			}
			if cm, ok := ev.Object.(*corev1.ConfigMap); ok && ev.Type == typ && cm.Name == name {
				return
			}
		case <-timeout:
			t.Fatalf("no %s event for %s within 10s", typ, name)
		}
	}
}

func clientsetFor(t *testing.T, kubeconfig string) *kubernetes.Clientset {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
