package storage

import (
	"context"
	"errors"
	"fmt"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// revisionProbeKey is read with WithCountOnly just to obtain a response
// header; it need not exist.
const revisionProbeKey = "/"

// Etcd implements Interface on an etcd v3 client. It owns the client: Close
// closes it.
type Etcd struct {
	client *clientv3.Client
	// kv is the raw KV API of the same etcd, for writes (see write.go).
	kv       pb.KVClient
	callOpts []grpc.CallOption
}

var _ Interface = (*Etcd)(nil)

// NewEtcd wraps a client connected with clientv3.New. (The embedded etcd's
// in-process client has no connection: use Embedded.Storage.)
func NewEtcd(client *clientv3.Client) *Etcd {
	s := &Etcd{client: client}
	if client.ActiveConnection() != nil {
		s.kv = clientv3.RetryKVClient(client)
		// As clientv3's own calls do: wait out a connection that is down
		// rather than failing at once.
		s.callOpts = []grpc.CallOption{grpc.WaitForReady(true)}
	}
	return s
}

// txn runs one transaction, with clientv3's error types.
func (s *Etcd) txn(ctx context.Context, req *pb.TxnRequest) (*pb.TxnResponse, error) {
	if s.kv == nil {
		return nil, errors.New("etcd client has no connection (an in-process client needs Embedded.Storage)")
	}
	resp, err := s.kv.Txn(ctx, req, s.callOpts...)
	if err != nil {
		return nil, rpctypes.Error(err)
	}
	return resp, nil
}

// Client exposes the underlying client for health checks and tests.
func (s *Etcd) Client() *clientv3.Client { return s.client }

// Get returns the current value of key, or ErrNotFound.
func (s *Etcd) Get(ctx context.Context, key string) (KeyValue, error) {
	resp, err := s.client.Get(ctx, key)
	if err != nil {
		return KeyValue{}, mapErr("get "+key, err)
	}
	if len(resp.Kvs) == 0 {
		return KeyValue{}, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	return fromKV(resp.Kvs[0]), nil
}

// CurrentRevision returns the store's newest revision from a count-only read
// of a single key, the cheapest linearizable request that carries a header.
func (s *Etcd) CurrentRevision(ctx context.Context) (int64, error) {
	resp, err := s.client.Get(ctx, revisionProbeKey, clientv3.WithCountOnly())
	if err != nil {
		return 0, mapErr("current revision", err)
	}
	return resp.Header.Revision, nil
}

// Compact discards history older than rev. A revision that is already
// compacted is not an error: the goal state holds.
func (s *Etcd) Compact(ctx context.Context, rev int64) error {
	_, err := s.client.Compact(ctx, rev)
	if err == nil {
		return nil
	}
	err = mapErr(fmt.Sprintf("compact to %d", rev), err)
	if errors.Is(err, ErrCompacted) {
		return nil
	}
	return err
}

// RequestProgress asks etcd to send a progress notification to every watch
// on the shared watch stream.
func (s *Etcd) RequestProgress(ctx context.Context) error {
	if err := s.client.RequestProgress(streamCtx(ctx)); err != nil {
		return mapErr("request progress", err)
	}
	return nil
}

// Close closes the client connection.
func (s *Etcd) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("close etcd client: %w", err)
	}
	return nil
}

// streamCtx normalises the outgoing gRPC metadata of ctx. clientv3 keys its
// watch streams by that metadata, and RequestProgress only reaches watches
// on the stream with the same key; forcing one fixed metadata set makes all
// watches share one stream. Requiring a leader also makes a watch fail
// (rather than hang silently) when its member is partitioned.
func streamCtx(ctx context.Context) context.Context {
	return clientv3.WithRequireLeader(metadata.NewOutgoingContext(ctx, metadata.MD{}))
}

func fromKV(kv *mvccpb.KeyValue) KeyValue {
	return KeyValue{
		Key:            string(kv.Key),
		Value:          kv.Value,
		CreateRevision: kv.CreateRevision,
		ModRevision:    kv.ModRevision,
	}
}
