// Package pods runs the pods bound to this node through CRI, as the
// kubelet does: one worker per pod creates the sandbox, runs the init
// containers in order and then the app containers, restarts them per
// restartPolicy with CrashLoopBackOff back-off, acts on probe results,
// reports the pod status (phase, conditions, container states), and on
// deletion runs preStop hooks, stops the containers within the grace
// period and removes the pod object only once they are gone. A relist loop
// notices containers that died, and sandboxes or containers that belong to
// no pod are cleaned up. A restarted agent adopts running containers by
// their labels without restarting them.
//
// It must not register the node or configure networking; volumes, images
// and probes are delegated to their packages.
package pods
