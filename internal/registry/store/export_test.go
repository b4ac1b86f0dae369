package store

import "k8s.io/apimachinery/pkg/runtime"

// Encode and Key expose the storage encoding and keys to the external
// tests, which write objects around the store (as an earlier server run
// would have).
func (st *Store) Encode(obj runtime.Object) ([]byte, error) { return st.encode(obj) }

// Key returns the etcd key of ns/name.
func (st *Store) Key(ns, name string) string { return st.key(ns, name) }
