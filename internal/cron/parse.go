package cron

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	// Zone data in the binary, so CRON_TZ and spec.timeZone work anywhere.
	_ "time/tzdata"
)

// Schedule is a parsed cron schedule: five field bitsets, or a fixed
// interval from "@every".
type Schedule struct {
	minute, hour, dom, month, dow uint64
	// domStar and dowStar record an unrestricted day field ("*" or "?"
	// without a step): then a day must match both fields, otherwise
	// either (the cron rule for "1 * * * MON" vs "1 * 1 * MON").
	domStar, dowStar bool
	every            time.Duration
	loc              *time.Location
}

type bounds struct {
	min, max int
	names    map[string]int
}

var (
	minutes = bounds{0, 59, nil}
	hours   = bounds{0, 23, nil}
	doms    = bounds{1, 31, nil}
	months  = bounds{1, 12, map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}}
	dows = bounds{0, 6, map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}}
)

var descriptors = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

// Parse parses a schedule. Errors name the offending part.
func Parse(spec string) (*Schedule, error) {
	spec = strings.TrimSpace(spec)
	loc, spec, err := zonePrefix(spec)
	if err != nil {
		return nil, err
	}
	if spec == "" {
		return nil, fmt.Errorf("empty spec string")
	}
	if rest, ok := strings.CutPrefix(spec, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return nil, fmt.Errorf("failed to parse duration %s: %w", spec, err)
		}
		// Activations are whole seconds, at least one apart.
		d = max(d.Truncate(time.Second), time.Second)
		return &Schedule{every: d, loc: loc}, nil
	}
	if strings.HasPrefix(spec, "@") {
		expanded, ok := descriptors[strings.ToLower(spec)]
		if !ok {
			return nil, fmt.Errorf("unrecognized descriptor: %s", spec)
		}
		spec = expanded
	}
	f := strings.Fields(spec)
	if len(f) != 5 {
		return nil, fmt.Errorf("expected exactly 5 fields, found %d: %s", len(f), spec)
	}
	s := &Schedule{loc: loc}
	parts := []struct {
		dst  *uint64
		star *bool
		b    bounds
	}{{&s.minute, nil, minutes}, {&s.hour, nil, hours}, {&s.dom, &s.domStar, doms}, {&s.month, nil, months}, {&s.dow, &s.dowStar, dows}}
	for i, p := range parts {
		bits, star, err := parseField(f[i], p.b)
		if err != nil {
			return nil, err
		}
		*p.dst = bits
		if p.star != nil {
			*p.star = star
		}
	}
	return s, nil
}

// zonePrefix splits a leading "CRON_TZ=<zone> " or "TZ=<zone> ".
func zonePrefix(spec string) (*time.Location, string, error) {
	if !strings.HasPrefix(spec, "CRON_TZ=") && !strings.HasPrefix(spec, "TZ=") {
		return nil, spec, nil
	}
	zone, rest, ok := strings.Cut(spec, " ")
	if !ok {
		return nil, "", fmt.Errorf("missing spec after timezone")
	}
	_, name, _ := strings.Cut(zone, "=")
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, "", fmt.Errorf("provided bad location %s: %w", name, err)
	}
	return loc, strings.TrimSpace(rest), nil
}

// parseField parses a comma-separated list of ranges into a bitset, and
// whether any part was an unrestricted "*" or "?".
func parseField(field string, b bounds) (uint64, bool, error) {
	var bits uint64
	star := false
	for _, expr := range strings.Split(field, ",") {
		r, s, err := parseRange(expr, b)
		if err != nil {
			return 0, false, err
		}
		bits |= r
		star = star || s
	}
	return bits, star, nil
}

// parseRange parses "*", "?", "n", "a-b" or any of those with "/step"
// ("n/step" runs from n to the field's maximum).
func parseRange(expr string, b bounds) (uint64, bool, error) {
	rangePart, stepPart, hasStep := strings.Cut(expr, "/")
	lo, hi := b.min, b.max
	star := rangePart == "*" || rangePart == "?"
	if !star {
		first, last, isRange := strings.Cut(rangePart, "-")
		var err error
		if lo, err = parseValue(first, b); err != nil {
			return 0, false, err
		}
		hi = lo
		switch {
		case isRange:
			if hi, err = parseValue(last, b); err != nil {
				return 0, false, err
			}
		case hasStep:
			hi = b.max
		}
	}
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepPart)
		if err != nil || n <= 0 {
			return 0, false, fmt.Errorf("failed to parse step %q in %q", stepPart, expr)
		}
		step = n
	}
	if lo > hi {
		return 0, false, fmt.Errorf("beginning of range (%d) beyond end of range (%d): %s", lo, hi, expr)
	}
	var bits uint64
	for v := lo; v <= hi; v += step {
		bits |= 1 << uint(v)
	}
	return bits, star && step == 1, nil
}

func parseValue(s string, b bounds) (int, error) {
	if v, ok := b.names[strings.ToLower(s)]; ok {
		return v, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("failed to parse int from %s: %w", s, err)
	}
	if n < b.min || n > b.max {
		return 0, fmt.Errorf("value out of range (%d - %d): %s", b.min, b.max, s)
	}
	return n, nil
}

// Location is the zone named by a CRON_TZ= or TZ= prefix, or nil.
func (s *Schedule) Location() *time.Location { return s.loc }
