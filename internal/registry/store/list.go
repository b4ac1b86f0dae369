package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/navarch/navarch/internal/storage"
	"github.com/navarch/navarch/internal/storage/cache"
)

// List answers with a typed list. Paginated reads that must be consistent
// across pages go to etcd at a fixed revision; everything else is served
// from the watch cache.
func (st *Store) List(ctx context.Context, ns string, opts ListOptions) (runtime.Object, error) {
	entries, rev, next, remaining, err := st.listEntries(ctx, ns, opts)
	if err != nil {
		return nil, err
	}
	return st.buildList(entries, rev, next, remaining)
}

// ListEntries is List without building the typed list, for callers that
// encode entries themselves (tables, memoized serialization).
func (st *Store) ListEntries(ctx context.Context, ns string, opts ListOptions) ([]*cache.Entry, metav1.ListMeta, error) {
	entries, rev, next, remaining, err := st.listEntries(ctx, ns, opts)
	if err != nil {
		return nil, metav1.ListMeta{}, err
	}
	return entries, listMeta(rev, next, remaining), nil
}

func (st *Store) listEntries(ctx context.Context, ns string, opts ListOptions) ([]*cache.Entry, int64, string, int64, error) {
	if opts.Continue != "" {
		tok, err := decodeContinue(opts.Continue)
		if err != nil {
			return nil, 0, "", 0, err
		}
		if !strings.HasPrefix(tok.Start, st.nsPrefix(ns)) {
			return nil, 0, "", 0, apierrors.NewBadRequest("continue key does not belong to this list")
		}
		return st.listEtcd(ctx, ns, opts, tok.Rev, tok.Start)
	}
	if opts.ResourceVersionMatch == string(metav1.ResourceVersionMatchExact) {
		n, err := parseRV(opts.ResourceVersion)
		if err != nil {
			return nil, 0, "", 0, err
		}
		return st.listEtcd(ctx, ns, opts, n, "")
	}
	if opts.ResourceVersion == "" && (opts.Limit > 0 || st.direct) {
		return st.listEtcd(ctx, ns, opts, 0, "")
	}
	if err := st.waitFor(ctx, opts.ResourceVersion); err != nil {
		return nil, 0, "", 0, err
	}
	entries, rev := st.cache.List(st.nsPrefix(ns), opts.Predicate)
	if opts.Limit > 0 && int64(len(entries)) > opts.Limit {
		last := entries[opts.Limit-1].Key
		remaining := int64(len(entries)) - opts.Limit
		return entries[:opts.Limit], rev, encodeContinue(rev, last+"\x00"), remaining, nil
	}
	return entries, rev, "", 0, nil
}

// listEtcd reads one page from etcd at rev (0 = newest), filtering as it
// goes and reading further chunks until the page is full.
func (st *Store) listEtcd(ctx context.Context, ns string, opts ListOptions, rev int64, start string) ([]*cache.Entry, int64, string, int64, error) {
	prefix := st.nsPrefix(ns)
	var out []*cache.Entry
	for {
		chunk := opts.Limit
		if chunk > 0 && !opts.Predicate.Empty() {
			chunk = max(chunk, 500)
		}
		res, err := st.s.List(ctx, prefix, storage.ListOptions{Revision: rev, Limit: chunk, StartKey: start})
		if err != nil {
			return nil, 0, "", 0, ToAPI(err, st.gr, "")
		}
		rev = res.Revision
		for i, kv := range res.Items {
			e, err := st.decodeEntry(kv)
			if err != nil {
				return nil, 0, "", 0, apierrors.NewInternalError(err)
			}
			if !opts.Predicate.Matches(e) {
				continue
			}
			out = append(out, e)
			if opts.Limit > 0 && int64(len(out)) == opts.Limit {
				more := res.More || i < len(res.Items)-1
				if !more {
					return out, rev, "", 0, nil
				}
				left := res.RemainingCount + int64(len(res.Items)-1-i)
				if !opts.Predicate.Empty() {
					left = 0
				}
				return out, rev, encodeContinue(rev, kv.Key+"\x00"), left, nil
			}
		}
		if !res.More || len(res.Items) == 0 {
			return out, rev, "", 0, nil
		}
		start = res.Items[len(res.Items)-1].Key + "\x00"
	}
}

func (st *Store) buildList(entries []*cache.Entry, rev int64, next string, remaining int64) (runtime.Object, error) {
	list := st.res.NewList()
	objs := make([]runtime.Object, len(entries))
	for i, e := range entries {
		objs[i] = e.Object
	}
	if err := meta.SetList(list, objs); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	lm := listMeta(rev, next, remaining)
	la, err := meta.ListAccessor(list)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	la.SetResourceVersion(lm.ResourceVersion)
	la.SetContinue(lm.Continue)
	la.SetRemainingItemCount(lm.RemainingItemCount)
	gvk := st.res.GVK()
	gvk.Kind += "List"
	list.GetObjectKind().SetGroupVersionKind(gvk)
	return list, nil
}

func listMeta(rev int64, next string, remaining int64) metav1.ListMeta {
	lm := metav1.ListMeta{ResourceVersion: strconv.FormatInt(rev, 10), Continue: next}
	if next != "" && remaining > 0 {
		lm.RemainingItemCount = &remaining
	}
	return lm
}

// continueToken is the opaque "continue" value: the revision of the first
// page, so every page reads the same snapshot, and the key to resume at.
type continueToken struct {
	Rev   int64  `json:"rv"`
	Start string `json:"start"`
}

func encodeContinue(rev int64, start string) string {
	b, _ := json.Marshal(continueToken{Rev: rev, Start: start})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeContinue(s string) (continueToken, error) {
	var t continueToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.Rev <= 0 {
		return t, apierrors.NewBadRequest("continue key is not valid: " + s)
	}
	return t, nil
}
