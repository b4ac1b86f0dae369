// Package history keeps the ControllerRevisions of DaemonSets and
// StatefulSets: snapshots of a pod template that `kubectl rollout history`
// prints and `kubectl rollout undo` patches back onto the owner.
//
// A revision's data is kubectl's format, a strategic merge patch that
// replaces spec.template ({"spec":{"template":{...,"$patch":"replace"}}}),
// so kubectl can apply it as-is. Revisions carry the owner's template
// labels (kubectl lists them with the owner's selector), a controller
// ownerReference, and the controller-revision-hash label.
//
// It must not decide which revision pods should run; that is the owning
// controller's job. It talks to the API only through client-go.
package history
