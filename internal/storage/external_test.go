package storage

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/navarch/navarch/internal/testutil/etcdcluster"
)

// TestExternalTLSCluster runs a 3-member etcd 3.4 cluster with client TLS,
// drives the storage through it, then kills the leader and keeps writing.
func TestExternalTLSCluster(t *testing.T) {
	cluster := etcdcluster.Start(t, 3)
	pki := cluster.PKI
	ctx := testCtx(t)
	client, err := Dial(ctx, ClientConfig{
		Endpoints: cluster.Endpoints(), CAFile: pki.CA, CertFile: pki.ClientCert, KeyFile: pki.ClientKey,
		DialTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("Dial over TLS: %v", err)
	}
	s := NewEtcd(client)
	t.Cleanup(func() { _ = s.Close() })
	waitWritable(t, s, "/ext/ready")

	start, _ := s.CurrentRevision(ctx)
	ch := s.Watch(ctx, "/ext/obj/", start)
	kv := mustCreate(t, s, "/ext/obj/a", "1")
	kv2, err := s.Update(ctx, "/ext/obj/a", []byte("2"), kv.ModRevision)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	for _, want := range []int64{kv.ModRevision, kv2.ModRevision} {
		if ev := next(t, ch); ev.Type != EventPut || ev.Revision != want {
			t.Fatalf("watch event %+v, want a put at %d", ev, want)
		}
	}

	cluster.KillLeader(t, client)
	before, _ := s.CurrentRevision(ctx)
	after := waitWritable(t, s, "/ext/obj/b")
	// A fresh watch replays the post-failure write from the survivors.
	if ev := next(t, s.Watch(ctx, "/ext/obj/", before)); ev.Key != "/ext/obj/b" || ev.Revision != after.ModRevision {
		t.Fatalf("watch after failover = %+v, want /ext/obj/b at %d", ev, after.ModRevision)
	}
}

// waitWritable creates key, retrying while the cluster is unavailable (an
// election in progress); a retried create that finds its own earlier write
// counts as success.
func waitWritable(t *testing.T, s *Etcd, key string) KeyValue {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		kv, err := s.Create(ctx, key, []byte("x"))
		cancel()
		switch {
		case err == nil:
			return kv
		case errors.Is(err, ErrExists):
			got, gerr := s.Get(testCtx(t), key)
			if gerr != nil {
				t.Fatalf("Get(%s) after ErrExists: %v", key, gerr)
			}
			return got
		case time.Now().After(deadline):
			t.Fatalf("Create(%s) still failing after 30s: %v", key, err)
		}
		t.Logf("Create(%s) retrying: %v", key, err)
		time.Sleep(100 * time.Millisecond) // pacing retries during an election
	}
}
