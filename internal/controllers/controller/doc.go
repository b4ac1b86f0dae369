// Package controller is the shared runtime of navarch's control loops. A
// controller is a level-triggered sync(ctx, key) driven by a rate-limited
// work queue that client-go informers feed; it observes, diffs and acts
// through the public API only, and keeps no state that a restart would lose
// (expectations are an optimization, never a source of truth).
//
// It must not import the API server, the registry or storage: controllers
// talk to navarch exactly as an external client would.
package controller
