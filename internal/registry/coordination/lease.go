// Package coordination holds the strategy and registry entry of
// coordination.k8s.io/v1 Leases, the objects leader election and node
// heartbeats write. It validates leases and must not do I/O or interpret
// who holds a lease.
package coordination

import (
	"context"
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

var metaPath = field.NewPath("metadata")

// LeaseStrategy implements registry.Strategy for Leases.
type LeaseStrategy struct{ registry.BaseStrategy }

// Validate checks a new Lease.
func (LeaseStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	l := obj.(*coordinationv1.Lease)
	errs := apivalidation.ValidateObjectMeta(&l.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, metaPath)
	return append(errs, validateLeaseSpec(&l.Spec, field.NewPath("spec"))...)
}

// ValidateUpdate checks an update; every spec field may change.
func (LeaseStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	l, o := obj.(*coordinationv1.Lease), old.(*coordinationv1.Lease)
	errs := apivalidation.ValidateObjectMetaUpdate(&l.ObjectMeta, &o.ObjectMeta, metaPath)
	return append(errs, validateLeaseSpec(&l.Spec, field.NewPath("spec"))...)
}

func validateLeaseSpec(s *coordinationv1.LeaseSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if d := s.LeaseDurationSeconds; d != nil && *d <= 0 {
		errs = append(errs, field.Invalid(fld.Child("leaseDurationSeconds"), *d, "must be greater than 0"))
	}
	if t := s.LeaseTransitions; t != nil && *t < 0 {
		errs = append(errs, field.Invalid(fld.Child("leaseTransitions"), *t, "must be greater than or equal to 0"))
	}
	if st := s.Strategy; st != nil {
		errs = append(errs, validateStrategy(*st, fld.Child("strategy"))...)
	}
	if s.PreferredHolder != nil && *s.PreferredHolder != "" && (s.Strategy == nil || *s.Strategy == "") {
		errs = append(errs, field.Forbidden(fld.Child("preferredHolder"), "may only be specified if `strategy` is defined"))
	}
	return errs
}

// validateStrategy accepts the built-in strategy or a domain-prefixed
// custom one, which third-party coordinators may define.
func validateStrategy(st coordinationv1.CoordinatedLeaseStrategy, fld *field.Path) field.ErrorList {
	if st == coordinationv1.OldestEmulationVersion {
		return nil
	}
	if st == "" {
		return field.ErrorList{field.Required(fld, "")}
	}
	if !strings.Contains(string(st), "/") {
		return field.ErrorList{field.NotSupported(fld, st, []coordinationv1.CoordinatedLeaseStrategy{coordinationv1.OldestEmulationVersion})}
	}
	return validation.IsDomainPrefixedPath(fld, string(st))
}

// Resources returns the coordination.k8s.io/v1 resources.
func Resources() []*registry.Resource {
	return []*registry.Resource{{
		Group: "coordination.k8s.io", Version: "v1", Resource: "leases",
		Kind: "Lease", Singular: "lease",
		Namespaced: true,
		New:        func() runtime.Object { return &coordinationv1.Lease{} },
		NewList:    func() runtime.Object { return &coordinationv1.LeaseList{} },
		Strategy:   LeaseStrategy{},
	}}
}
