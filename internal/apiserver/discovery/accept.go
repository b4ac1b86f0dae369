package discovery

import (
	"mime"
	"strconv"
	"strings"
)

// acceptsAggregated decides between the aggregated v2 form and legacy JSON.
// The best-ranked acceptable media type wins (highest q, then first listed).
// Protobuf and v2beta1 are never served, and an Accept that names nothing we
// serve falls back to legacy JSON rather than 406, as older clients expect.
func acceptsAggregated(headers []string) bool {
	bestQ, aggregated := -1.0, false
	for _, header := range headers {
		for _, item := range strings.Split(header, ",") {
			kind, q := classify(item)
			if kind == unacceptable || q <= 0 || q <= bestQ {
				continue
			}
			bestQ, aggregated = q, kind == aggregatedJSON
		}
	}
	return aggregated
}

type mediaKind int

const (
	unacceptable mediaKind = iota
	legacyJSON
	aggregatedJSON
)

// classify maps one Accept entry to what it lets us send, with its q-value.
func classify(item string) (mediaKind, float64) {
	item = strings.TrimSpace(item)
	if item == "" {
		return unacceptable, 0
	}
	base, params, err := mime.ParseMediaType(item)
	if err != nil {
		return unacceptable, 0
	}
	q := 1.0
	if s, ok := params["q"]; ok {
		if q, err = strconv.ParseFloat(s, 64); err != nil {
			return unacceptable, 0
		}
	}
	g, v, as := params["g"], params["v"], params["as"]
	switch {
	case base == "application/json" && g == "apidiscovery.k8s.io" && v == "v2" && as == "APIGroupDiscoveryList":
		// profile=nopeer asks for local-only data, which is all we have.
		return aggregatedJSON, q
	case g != "" || v != "" || as != "":
		// Some other typed form (v2beta1, Table, ...): not ours to give.
		return unacceptable, 0
	case base == "application/json" || base == "application/*" || base == "*/*":
		return legacyJSON, q
	}
	return unacceptable, 0
}
