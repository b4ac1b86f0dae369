// Package garbagecollector deletes objects whose owners are gone, and
// carries out the three propagation policies a DELETE may ask for:
//
//   - background: the owner goes at once; dependents whose every owner is
//     gone are deleted afterwards;
//   - foreground: the API server gives the owner a deletionTimestamp and the
//     foregroundDeletion finalizer; dependents are deleted first, and the
//     finalizer is removed once no dependent with blockOwnerDeletion is
//     left;
//   - orphan: the owner carries the orphan finalizer; its ownerReferences
//     are removed from the dependents, then the finalizer.
//
// It builds an ownership graph of every resource the API serves through
// metadata-only informers (rediscovered periodically, so new resources are
// watched too), and verifies every decision against the live API before it
// acts: the graph only says where to look. It keeps no state that a
// restart would lose; the graph is rebuilt from the informers.
//
// It must not read full objects (metadata only) or reach the API other than
// through client-go.
package garbagecollector
