package apiserver

import (
	"fmt"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/registry/store"
	"github.com/navarch/navarch/internal/storage/cache"
)

// listOptions parses the query of a list or watch request.
func listOptions(r *http.Request, ri requestInfo, res *registry.Resource) (store.ListOptions, error) {
	q := r.URL.Query()
	var opts store.ListOptions
	sel, err := labels.Parse(q.Get("labelSelector"))
	if err != nil {
		return opts, apierrors.NewBadRequest(err.Error())
	}
	fsel, err := fieldSelector(q.Get("fieldSelector"), ri, res)
	if err != nil {
		return opts, err
	}
	opts.Predicate = cache.Predicate{Label: sel, Field: fsel}
	opts.ResourceVersion = q.Get("resourceVersion")
	opts.ResourceVersionMatch = q.Get("resourceVersionMatch")
	opts.Continue = q.Get("continue")
	if v := q.Get("limit"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return opts, apierrors.NewBadRequest(fmt.Sprintf("invalid limit %q", v))
		}
		opts.Limit = n
	}
	opts.AllowBookmarks = q.Get("allowWatchBookmarks") == "true"
	if v := q.Get("sendInitialEvents"); v != "" {
		b := v == "true"
		opts.SendInitialEvents = &b
	}
	return opts, validateListOptions(opts, ri)
}

func validateListOptions(opts store.ListOptions, ri requestInfo) error {
	switch opts.ResourceVersionMatch {
	case "", string(metav1.ResourceVersionMatchNotOlderThan), string(metav1.ResourceVersionMatchExact):
	default:
		return apierrors.NewBadRequest(fmt.Sprintf("resourceVersionMatch: Unsupported value: %q", opts.ResourceVersionMatch))
	}
	if opts.ResourceVersionMatch != "" && opts.ResourceVersion == "" && ri.verb == "list" {
		return apierrors.NewBadRequest("resourceVersionMatch is forbidden unless resourceVersion is provided")
	}
	if opts.Continue != "" && opts.ResourceVersion != "" && opts.ResourceVersion != "0" {
		return apierrors.NewBadRequest("specifying resource version is not allowed when using continue")
	}
	if opts.SendInitialEvents != nil && ri.verb != "watch" {
		return apierrors.NewBadRequest("sendInitialEvents is forbidden for list")
	}
	return nil
}

// fieldSelector parses a field selector, refusing fields the resource does
// not index, with upstream's wording. A name in the path becomes a
// metadata.name requirement.
func fieldSelector(s string, ri requestInfo, res *registry.Resource) (fields.Selector, error) {
	sel, err := fields.ParseSelector(s)
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid field selector: %v", err))
	}
	supported := selectableFields(res)
	for _, req := range sel.Requirements() {
		if !supported[req.Field] {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
		}
	}
	if ri.name != "" {
		sel = fields.AndSelectors(sel, fields.OneTermEqualSelector("metadata.name", ri.name))
	}
	return sel, nil
}

// selectableFields learns a resource's field selector keys from its
// Fields function applied to an empty object.
func selectableFields(res *registry.Resource) map[string]bool {
	set := map[string]bool{"metadata.name": true}
	if res.Namespaced {
		set["metadata.namespace"] = true
	}
	if res.Fields != nil {
		for k := range res.Fields(res.New()) {
			set[k] = true
		}
	}
	return set
}

// dryRun parses the dryRun parameter: only "All" is meaningful.
func dryRun(r *http.Request) (bool, error) {
	vals := r.URL.Query()["dryRun"]
	for _, v := range vals {
		if v != metav1.DryRunAll {
			return false, apierrors.NewBadRequest(fmt.Sprintf("Invalid dryRun value %q: supported values are: %q", v, metav1.DryRunAll))
		}
	}
	return len(vals) > 0, nil
}
