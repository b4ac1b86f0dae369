package store

import (
	"context"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
)

// Get returns a private copy of the object. resourceVersion "" reads the
// newest state, "0" whatever the cache holds, and N at least revision N.
func (st *Store) Get(ctx context.Context, ns, name string, opts GetOptions) (runtime.Object, error) {
	if opts.ResourceVersion == "" && st.direct {
		cur, err := st.read(ctx, st.key(ns, name), name)
		if err != nil {
			return nil, err
		}
		return cur.obj, nil
	}
	if err := st.waitFor(ctx, opts.ResourceVersion); err != nil {
		return nil, err
	}
	e, _, err := st.cache.Get(st.key(ns, name))
	if err != nil {
		return nil, ToAPI(err, st.gr, name)
	}
	return e.Object.DeepCopyObject(), nil
}

// waitFor brings the cache to the freshness a resourceVersion asks for.
func (st *Store) waitFor(ctx context.Context, rv string) error {
	switch rv {
	case "0":
		return nil
	case "":
		_, err := st.cache.WaitFresh(ctx)
		return ToAPI(err, st.gr, "")
	}
	n, err := parseRV(rv)
	if err != nil {
		return err
	}
	return ToAPI(st.cache.WaitRev(ctx, n), st.gr, "")
}

func parseRV(rv string) (int64, error) {
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil || n < 0 {
		return 0, apierrors.NewBadRequest("invalid resource version: " + strconv.Quote(rv))
	}
	return n, nil
}
