package storage

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"
)

// revisionProbeKey is read with WithCountOnly just to obtain a response
// header; it need not exist.
const revisionProbeKey = "/"

// Etcd implements Interface on an etcd v3 client. It owns the client: Close
// closes it.
type Etcd struct {
	client *clientv3.Client
}

var _ Interface = (*Etcd)(nil)

// NewEtcd wraps a connected client.
func NewEtcd(client *clientv3.Client) *Etcd {
	return &Etcd{client: client}
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
