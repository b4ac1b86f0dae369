package storage

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// List returns one page of the keys under prefix, in key order.
func (s *Etcd) List(ctx context.Context, prefix string, opts ListOptions) (ListResult, error) {
	start := prefix
	if opts.StartKey != "" {
		start = opts.StartKey
	}
	end := clientv3.GetPrefixRangeEnd(prefix)
	if start == "" {
		// etcd rejects an empty key; "\x00" is the smallest valid one.
		start = "\x00"
	}
	ops := []clientv3.OpOption{clientv3.WithRange(end)}
	if opts.Revision > 0 {
		ops = append(ops, clientv3.WithRev(opts.Revision))
	}
	if opts.Limit > 0 {
		ops = append(ops, clientv3.WithLimit(opts.Limit))
	}
	resp, err := s.client.Get(ctx, start, ops...)
	if err != nil {
		return ListResult{}, mapErr(fmt.Sprintf("list %s at revision %d", prefix, opts.Revision), err)
	}
	res := ListResult{
		Items:    make([]KeyValue, 0, len(resp.Kvs)),
		Revision: resp.Header.Revision,
		More:     resp.More,
	}
	if opts.Revision > 0 {
		res.Revision = opts.Revision
	}
	for _, kv := range resp.Kvs {
		res.Items = append(res.Items, fromKV(kv))
	}
	if res.More {
		// Count covers the whole range from start, not just this page.
		res.RemainingCount = resp.Count - int64(len(resp.Kvs))
	}
	return res, nil
}
