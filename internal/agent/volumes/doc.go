// Package volumes prepares a pod's volumes on the node before its
// containers start, and removes them after: emptyDir (disk or a tmpfs for
// medium Memory), hostPath, and the API-backed kinds configMap, secret,
// downwardAPI and projected, written with upstream's atomic-writer layout
// (a timestamped directory behind a "..data" symlink) so that their
// contents change in place, all at once, when the objects change. Secrets
// live on tmpfs, never on disk.
//
// It must not create containers or talk to the API itself: objects come
// through the Getter.
package volumes
