package storage

import (
	"context"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Create writes key and claims ops atomically if key and every claimed key
// are absent.
func (s *Etcd) Create(ctx context.Context, key string, value []byte, ops ...Op) (KeyValue, error) {
	cmps := append([]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), "=", 0)}, claimCmps(ops)...)
	then := append([]clientv3.Op{clientv3.OpPut(key, string(value))}, sideOps(ops)...)
	resp, err := s.client.Txn(ctx).If(cmps...).Then(then...).Else(elseGets(key, ops)...).Commit()
	if err != nil {
		return KeyValue{}, mapErr("create "+key, err)
	}
	if !resp.Succeeded {
		cur, found := currentKV(resp)
		if found {
			return cur, fmt.Errorf("create %s: %w", key, ErrExists)
		}
		return KeyValue{}, failedClaims(key, resp)
	}
	rev := resp.Header.Revision
	return KeyValue{Key: key, Value: value, CreateRevision: rev, ModRevision: rev}, nil
}

// Update writes key if its mod revision is expectedRev (0: any, but the key
// must exist), together with ops. The result has no CreateRevision: reading
// it back in the transaction costs etcd a lookup and a decode of the value
// on every write, and no caller needs it.
func (s *Etcd) Update(ctx context.Context, key string, value []byte, expectedRev int64, ops ...Op) (KeyValue, error) {
	cmps := append([]clientv3.Cmp{revCmp(key, expectedRev)}, claimCmps(ops)...)
	then := append([]clientv3.Op{clientv3.OpPut(key, string(value))}, sideOps(ops)...)
	resp, err := s.client.Txn(ctx).If(cmps...).Then(then...).Else(elseGets(key, ops)...).Commit()
	if err != nil {
		return KeyValue{}, mapErr("update "+key, err)
	}
	if !resp.Succeeded {
		return explainFailure("update", key, expectedRev, resp)
	}
	return KeyValue{Key: key, Value: value, ModRevision: resp.Header.Revision}, nil
}

// Delete removes key if its mod revision is expectedRev (0: any), together
// with ops, and returns the deleted value stamped with the deletion revision.
func (s *Etcd) Delete(ctx context.Context, key string, expectedRev int64, ops ...Op) (KeyValue, error) {
	cmps := append([]clientv3.Cmp{revCmp(key, expectedRev)}, claimCmps(ops)...)
	then := append([]clientv3.Op{clientv3.OpDelete(key, clientv3.WithPrevKV())}, sideOps(ops)...)
	resp, err := s.client.Txn(ctx).If(cmps...).Then(then...).Else(elseGets(key, ops)...).Commit()
	if err != nil {
		return KeyValue{}, mapErr("delete "+key, err)
	}
	if !resp.Succeeded {
		return explainFailure("delete", key, expectedRev, resp)
	}
	prev := resp.Responses[0].GetResponseDeleteRange().GetPrevKvs()
	if len(prev) == 0 {
		// The compare guaranteed existence; this would be an etcd bug.
		return KeyValue{}, fmt.Errorf("delete %s: no previous value returned: %w", key, ErrNotFound)
	}
	out := fromKV(prev[0])
	out.ModRevision = resp.Header.Revision
	return out, nil
}

// explainFailure turns the Else branch of an Update or Delete into the
// error the caller can act on, returning the current value when there is
// one so that retry loops need not read again.
func explainFailure(verb, key string, expectedRev int64, resp *clientv3.TxnResponse) (KeyValue, error) {
	cur, found := currentKV(resp)
	switch {
	case !found:
		return KeyValue{}, fmt.Errorf("%s %s: %w", verb, key, ErrNotFound)
	case expectedRev != 0 && cur.ModRevision != expectedRev:
		return cur, fmt.Errorf("%s %s: expected revision %d, found %d: %w",
			verb, key, expectedRev, cur.ModRevision, ErrConflict)
	}
	return cur, failedClaims(key, resp)
}

// revCmp is the precondition on the main key of an Update or Delete.
func revCmp(key string, expectedRev int64) clientv3.Cmp {
	if expectedRev == 0 {
		return clientv3.Compare(clientv3.CreateRevision(key), ">", 0)
	}
	return clientv3.Compare(clientv3.ModRevision(key), "=", expectedRev)
}

// claimCmps requires every claimed key to be absent.
func claimCmps(ops []Op) []clientv3.Cmp {
	var cmps []clientv3.Cmp
	for _, op := range ops {
		if !op.Release {
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(op.Key), "=", 0))
		}
	}
	return cmps
}

// sideOps are the writes of claims and deletes of releases.
func sideOps(ops []Op) []clientv3.Op {
	out := make([]clientv3.Op, 0, len(ops))
	for _, op := range ops {
		if op.Release {
			out = append(out, clientv3.OpDelete(op.Key))
		} else {
			out = append(out, clientv3.OpPut(op.Key, string(op.Value)))
		}
	}
	return out
}

// elseGets reads the main key and every claimed key, in that order, so a
// failed transaction can say which precondition broke.
func elseGets(key string, ops []Op) []clientv3.Op {
	out := []clientv3.Op{clientv3.OpGet(key)}
	for _, op := range ops {
		if !op.Release {
			out = append(out, clientv3.OpGet(op.Key, clientv3.WithKeysOnly()))
		}
	}
	return out
}

// currentKV is the main key as read by the first Else operation.
func currentKV(resp *clientv3.TxnResponse) (KeyValue, bool) {
	kvs := rangeKvs(resp, 0)
	if len(kvs) == 0 {
		return KeyValue{}, false
	}
	return fromKV(kvs[0]), true
}

// failedClaims lists the claimed keys that the Else branch found present.
func failedClaims(key string, resp *clientv3.TxnResponse) error {
	var keys []string
	for i := 1; i < len(resp.Responses); i++ {
		if kvs := rangeKvs(resp, i); len(kvs) > 0 {
			keys = append(keys, string(kvs[0].Key))
		}
	}
	if len(keys) == 0 {
		return fmt.Errorf("write %s: transaction failed with no visible cause: %w", key, ErrConflict)
	}
	return fmt.Errorf("write %s: %w", key, &ClaimError{Keys: keys})
}

func rangeKvs(resp *clientv3.TxnResponse, i int) []*mvccpb.KeyValue {
	if i >= len(resp.Responses) {
		return nil
	}
	return resp.Responses[i].GetResponseRange().GetKvs()
}
