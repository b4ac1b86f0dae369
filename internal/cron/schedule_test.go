package cron

import (
	"strings"
	"testing"
	"time"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ spec, want string }{
		{"", "empty spec"},
		{"* * * *", "expected exactly 5 fields"},
		{"* * * * * *", "expected exactly 5 fields"},
		{"60 * * * *", "out of range"},
		{"* 24 * * *", "out of range"},
		{"* * 0 * *", "out of range"},
		{"* * * 13 *", "out of range"},
		{"* * * * 7", "out of range"},
		{"5-1 * * * *", "beyond end of range"},
		{"*/0 * * * *", "failed to parse step"},
		{"*/x * * * *", "failed to parse step"},
		{"a * * * *", "failed to parse int"},
		{"@fortnightly", "unrecognized descriptor"},
		{"@every soon", "failed to parse duration"},
		{"CRON_TZ=Mars/Olympus 0 * * * *", "bad location"},
		{"TZ=UTC", "missing spec"},
	}
	for _, c := range cases {
		_, err := Parse(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", c.spec, err, c.want)
		}
	}
}

func TestNext(t *testing.T) {
	utc := time.UTC
	ny := zone(t, "America/New_York")
	kolkata := zone(t, "Asia/Kolkata")
	at := func(loc *time.Location, s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name string
		spec string
		from time.Time
		want []string // RFC 3339 in from's location
	}{
		{"every 15 minutes", "*/15 * * * *", at(utc, "2024-01-01 10:07:30"),
			[]string{"2024-01-01T10:15:00Z", "2024-01-01T10:30:00Z", "2024-01-01T10:45:00Z", "2024-01-01T11:00:00Z"}},
		{"strictly after", "0 * * * *", at(utc, "2024-01-01 10:00:00"), []string{"2024-01-01T11:00:00Z"}},
		{"step from a start", "5/20 * * * *", at(utc, "2024-01-01 10:00:00"),
			[]string{"2024-01-01T10:05:00Z", "2024-01-01T10:25:00Z", "2024-01-01T10:45:00Z", "2024-01-01T11:05:00Z"}},
		{"range with step and list", "0 1-5/2,23 * * *", at(utc, "2024-01-01 00:00:00"),
			[]string{"2024-01-01T01:00:00Z", "2024-01-01T03:00:00Z", "2024-01-01T05:00:00Z", "2024-01-01T23:00:00Z"}},
		{"names", "0 12 * feb-mar mon", at(utc, "2024-01-01 00:00:00"),
			[]string{"2024-02-05T12:00:00Z", "2024-02-12T12:00:00Z"}},
		{"day of month or of week", "0 0 12 * 5", at(utc, "2024-09-01 00:00:00"),
			[]string{"2024-09-06T00:00:00Z", "2024-09-12T00:00:00Z", "2024-09-13T00:00:00Z", "2024-09-20T00:00:00Z", "2024-09-27T00:00:00Z"}},
		{"day of week with star day of month", "0 0 * * 5", at(utc, "2024-09-12 00:00:00"),
			[]string{"2024-09-13T00:00:00Z", "2024-09-20T00:00:00Z"}},
		{"question mark", "0 0 ? * 0", at(utc, "2024-09-12 00:00:00"), []string{"2024-09-15T00:00:00Z"}},
		{"leap day", "0 0 29 2 *", at(utc, "2024-03-01 00:00:00"), []string{"2028-02-29T00:00:00Z"}},
		{"hourly", "@hourly", at(utc, "2024-01-01 10:59:59"), []string{"2024-01-01T11:00:00Z", "2024-01-01T12:00:00Z"}},
		{"daily", "@daily", at(utc, "2024-01-01 10:00:00"), []string{"2024-01-02T00:00:00Z"}},
		{"midnight", "@midnight", at(utc, "2024-01-01 10:00:00"), []string{"2024-01-02T00:00:00Z"}},
		{"weekly is Sunday", "@weekly", at(utc, "2024-01-01 10:00:00"), []string{"2024-01-07T00:00:00Z", "2024-01-14T00:00:00Z"}},
		{"monthly", "@monthly", at(utc, "2024-01-31 10:00:00"), []string{"2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"}},
		{"yearly", "@yearly", at(utc, "2024-06-01 10:00:00"), []string{"2025-01-01T00:00:00Z"}},
		{"annually", "@annually", at(utc, "2024-06-01 10:00:00"), []string{"2025-01-01T00:00:00Z"}},
		{"every", "@every 90m", at(utc, "2024-01-01 10:00:30"), []string{"2024-01-01T11:30:30Z", "2024-01-01T13:00:30Z"}},
		{"every drops fractions", "@every 1500ms", at(utc, "2024-01-01 10:00:00"), []string{"2024-01-01T10:00:01Z", "2024-01-01T10:00:02Z"}},
		{"half-hour offset zone", "0 * * * *", at(kolkata, "2024-01-01 10:15:00"), []string{"2024-01-01T11:00:00+05:30"}},
		// 2024-03-10: New York skips from 02:00 EST to 03:00 EDT.
		{"skipped wall time does not fire", "30 2 * * *", at(ny, "2024-03-09 12:00:00"),
			[]string{"2024-03-11T02:30:00-04:00"}},
		{"hourly across spring forward", "0 * * * *", at(ny, "2024-03-10 00:30:00"),
			[]string{"2024-03-10T01:00:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-10T04:00:00-04:00"}},
		{"daily after spring forward", "0 9 * * *", at(ny, "2024-03-09 10:00:00"),
			[]string{"2024-03-10T09:00:00-04:00", "2024-03-11T09:00:00-04:00"}},
		// 2024-11-03: New York repeats 01:00-02:00 (EDT, then EST).
		{"repeated wall time fires twice", "30 1 * * *", at(ny, "2024-11-03 00:00:00"),
			[]string{"2024-11-03T01:30:00-04:00", "2024-11-03T01:30:00-05:00", "2024-11-04T01:30:00-05:00"}},
		{"hourly across fall back", "0 * * * *", at(ny, "2024-11-03 00:30:00"),
			[]string{"2024-11-03T01:00:00-04:00", "2024-11-03T01:00:00-05:00", "2024-11-03T02:00:00-05:00"}},
		{"never fires", "0 0 30 2 *", at(utc, "2024-01-01 00:00:00"), []string{"0001-01-01T00:00:00Z"}},
	}
	for _, c := range cases {
		s, err := Parse(c.spec)
		if err != nil {
			t.Errorf("%s: Parse(%q): %v", c.name, c.spec, err)
			continue
		}
		cur := c.from
		for i, want := range c.want {
			cur = s.Next(cur)
			got := cur.Format(time.RFC3339)
			if cur.IsZero() {
				got = time.Time{}.Format(time.RFC3339)
			}
			if got != want {
				t.Errorf("%s: activation %d after %s = %s, want %s", c.name, i+1, c.from, got, want)
				break
			}
		}
	}
}

func TestZonePrefix(t *testing.T) {
	for _, spec := range []string{"CRON_TZ=Asia/Tokyo 0 9 * * *", "TZ=Asia/Tokyo 0 9 * * *"} {
		s, err := Parse(spec)
		if err != nil {
			t.Fatalf("Parse(%q): %v", spec, err)
		}
		if s.Location() == nil || s.Location().String() != "Asia/Tokyo" {
			t.Fatalf("%q: location %v", spec, s.Location())
		}
		from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).In(s.Location())
		if got := s.Next(from).UTC(); !got.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) &&
			!got.Equal(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%q: next after %v = %v, want 00:00 UTC (09:00 Tokyo)", spec, from, got)
		}
	}
	if s, _ := Parse("0 9 * * *"); s.Location() != nil {
		t.Error("a spec without a zone reports one")
	}
}

func TestMinutesToNext(t *testing.T) {
	set := uint64(1<<5 | 1<<30)
	cases := []struct{ m, want int }{{0, 5}, {5, 25}, {29, 1}, {30, 30}, {59, 1}}
	for _, c := range cases {
		if got := minutesToNext(set, c.m); got != c.want {
			t.Errorf("minutesToNext(%d) = %d, want %d", c.m, got, c.want)
		}
	}
}

func BenchmarkNextEveryMinute(b *testing.B) {
	s, _ := Parse("* * * * *")
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		t = s.Next(t)
	}
}

func BenchmarkNextYearly(b *testing.B) {
	s, _ := Parse("0 0 29 2 *")
	t := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		s.Next(t)
	}
}
