package cron

import (
	"testing"
	"time"
)

func TestParseRejects(t *testing.T) {
	for _, spec := range []string{"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *",
		"* * * * 7", "*/0 * * * *", "5-1 * * * *", "@fortnightly", "@every x", "a * * * *"} {
		if _, err := Parse(spec); err == nil {
			t.Errorf("Parse(%q) succeeded, want error", spec)
		}
	}
}

func TestNextCases(t *testing.T) {
	base := time.Date(2024, time.January, 31, 10, 17, 30, 0, time.UTC) // a Wednesday
	cases := []struct {
		spec string
		want time.Time
	}{
		{"* * * * *", time.Date(2024, 1, 31, 10, 18, 0, 0, time.UTC)},
		{"*/15 * * * *", time.Date(2024, 1, 31, 10, 30, 0, 0, time.UTC)},
		{"0 9-17/4 * * *", time.Date(2024, 1, 31, 13, 0, 0, 0, time.UTC)},
		{"@hourly", time.Date(2024, 1, 31, 11, 0, 0, 0, time.UTC)},
		{"@daily", time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)},
		{"@weekly", time.Date(2024, 2, 4, 0, 0, 0, 0, time.UTC)},
		{"@monthly", time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)},
		{"@yearly", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"30 8 29 feb ?", time.Date(2024, 2, 29, 8, 30, 0, 0, time.UTC)},
		{"0 0 1 * MON", time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)}, // day-of-month OR day-of-week
		{"0 12 * * sat,sun", time.Date(2024, 2, 3, 12, 0, 0, 0, time.UTC)},
		{"@every 90s", time.Date(2024, 1, 31, 10, 19, 0, 0, time.UTC)},
		{"0 0 30 2 *", time.Time{}},
	}
	for _, tc := range cases {
		s, err := Parse(tc.spec)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.spec, err)
			continue
		}
		if got := s.Next(base); !got.Equal(tc.want) {
			t.Errorf("%q: Next = %v, want %v", tc.spec, got, tc.want)
		}
	}
}
