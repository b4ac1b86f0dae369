// Package printers renders API objects as metav1.Table rows, the server-side
// half of `kubectl get`: kubectl asks for
// "application/json;as=Table;v=v1;g=meta.k8s.io" and prints whatever columns
// and cells it receives, so the column names and cell text here must match
// what users of upstream Kubernetes are used to seeing.
//
// The package is pure: it formats objects it is handed and must not read
// storage, talk to the network, set list metadata (resourceVersion, continue,
// remainingItemCount) or negotiate content types. Those belong to the HTTP
// layer that calls ToTable.
package printers
