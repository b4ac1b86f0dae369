package openapi

import (
	"strconv"
	"strings"
)

// negotiate picks protoType or application/json from Accept headers: the
// highest q wins, the first listed among equals. No Accept means JSON; an
// Accept naming neither yields "". The protobuf media types contain "@",
// which mime.ParseMediaType rejects, so entries are split by hand.
func negotiate(headers []string, protoType string) string {
	best, bestQ, seen := "", 0.0, false
	for _, h := range headers {
		for _, item := range strings.Split(h, ",") {
			base, q, ok := parseAcceptItem(item)
			if !ok {
				continue
			}
			seen = true
			var offer string
			switch base {
			case protoType:
				offer = protoType
			case "application/json", "application/*", "*/*":
				offer = "application/json"
			default:
				continue
			}
			if q > bestQ {
				best, bestQ = offer, q
			}
		}
	}
	if !seen {
		return "application/json"
	}
	return best
}

// parseAcceptItem returns the lower-cased media type and q of one entry.
func parseAcceptItem(item string) (string, float64, bool) {
	parts := strings.Split(item, ";")
	base := strings.ToLower(strings.TrimSpace(parts[0]))
	if base == "" {
		return "", 0, false
	}
	q := 1.0
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "q") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return "", 0, false
			}
			q = f
		}
	}
	return base, q, true
}
