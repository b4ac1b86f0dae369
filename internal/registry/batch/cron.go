package batch

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed cron schedule: either five field bitsets or a fixed
// interval from "@every".
type Schedule struct {
	minute, hour, dom, month, dow uint64
	// domStar and dowStar record a "*" or "?" day field: cron matches a day
	// when both day fields match if either is a star, and when either
	// matches otherwise.
	domStar, dowStar bool
	every            time.Duration
}

type bounds struct {
	min, max int
	names    map[string]int
}

var (
	minuteBounds = bounds{0, 59, nil}
	hourBounds   = bounds{0, 23, nil}
	domBounds    = bounds{1, 31, nil}
	monthBounds  = bounds{1, 12, map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}}
	dowBounds = bounds{0, 6, map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}}
)

var descriptors = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

// ParseSchedule parses a standard five-field cron expression (minute hour
// day-of-month month day-of-week) or a descriptor such as "@daily" or
// "@every 1h30m", the syntax CronJob schedules accept.
func ParseSchedule(spec string) (*Schedule, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("empty spec string")
	}
	if strings.HasPrefix(spec, "@every ") {
		d, err := time.ParseDuration(strings.TrimSpace(strings.TrimPrefix(spec, "@every ")))
		if err != nil {
			return nil, fmt.Errorf("failed to parse duration %s: %w", spec, err)
		}
		if d < time.Second {
			d = time.Second
		}
		return &Schedule{every: d - time.Duration(d.Nanoseconds())%time.Second}, nil
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
	s := &Schedule{}
	var err error
	parts := []struct {
		dst *uint64
		b   bounds
	}{{&s.minute, minuteBounds}, {&s.hour, hourBounds}, {&s.dom, domBounds}, {&s.month, monthBounds}, {&s.dow, dowBounds}}
	for i, p := range parts {
		if *p.dst, err = parseField(f[i], p.b); err != nil {
			return nil, err
		}
	}
	s.domStar = f[2] == "*" || f[2] == "?"
	s.dowStar = f[4] == "*" || f[4] == "?"
	return s, nil
}

// parseField parses a comma-separated list of ranges into a bitset.
func parseField(field string, b bounds) (uint64, error) {
	var bits uint64
	for _, expr := range strings.Split(field, ",") {
		r, err := parseRange(expr, b)
		if err != nil {
			return 0, err
		}
		bits |= r
	}
	return bits, nil
}

// parseRange parses "*", "?", "n", "a-b" or any of those with "/step".
func parseRange(expr string, b bounds) (uint64, error) {
	rangePart, stepPart, hasStep := strings.Cut(expr, "/")
	lo, hi := b.min, b.max
	switch {
	case rangePart == "*" || rangePart == "?":
	default:
		first, last, isRange := strings.Cut(rangePart, "-")
		var err error
		if lo, err = parseValue(first, b); err != nil {
			return 0, err
		}
		hi = lo
		if isRange {
			if hi, err = parseValue(last, b); err != nil {
				return 0, err
			}
		} else if hasStep {
			hi = b.max
		}
	}
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepPart)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("failed to parse step %q in %q", stepPart, expr)
		}
		step = n
	}
	if lo < b.min || hi > b.max {
		return 0, fmt.Errorf("value out of range (%d - %d): %s", b.min, b.max, expr)
	}
	if lo > hi {
		return 0, fmt.Errorf("beginning of range (%d) beyond end of range (%d): %s", lo, hi, expr)
	}
	var bits uint64
	for v := lo; v <= hi; v += step {
		bits |= 1 << uint(v)
	}
	return bits, nil
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

// Next returns the first activation strictly after t, in t's location, or
// the zero time if there is none within five years (e.g. "0 0 30 2 *").
func (s *Schedule) Next(t time.Time) time.Time {
	if s.every > 0 {
		return t.Add(s.every - time.Duration(t.Nanosecond())).Truncate(time.Second)
	}
	loc := t.Location()
	t = t.Add(time.Minute - time.Duration(t.Second())*time.Second - time.Duration(t.Nanosecond()))
	limit := t.AddDate(5, 0, 0)
	for t.Before(limit) {
		switch {
		case s.month&(1<<uint(t.Month())) == 0:
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, loc)
		case !s.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
		case s.hour&(1<<uint(t.Hour())) == 0:
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, loc)
		case s.minute&(1<<uint(t.Minute())) == 0:
			t = t.Add(time.Minute)
		default:
			return t
		}
	}
	return time.Time{}
}

func (s *Schedule) dayMatches(t time.Time) bool {
	dom := s.dom&(1<<uint(t.Day())) != 0
	dow := s.dow&(1<<uint(t.Weekday())) != 0
	if s.domStar || s.dowStar {
		return dom && dow
	}
	return dom || dow
}
