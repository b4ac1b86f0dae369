package cron

import (
	"math/bits"
	"time"
)

// searchYears bounds the search for a schedule that can never fire, such
// as "0 0 30 2 *".
const searchYears = 5

// Next returns the first activation strictly after t, on the wall clock
// of t's location, or the zero time if there is none within five years.
func (s *Schedule) Next(t time.Time) time.Time {
	if s.every > 0 {
		return t.Add(s.every - time.Duration(t.Nanosecond()))
	}
	loc := t.Location()
	// The next whole minute of the local clock (offsets need not be whole
	// minutes, so do not truncate the absolute time).
	t = t.Add(time.Minute - time.Duration(t.Second())*time.Second - time.Duration(t.Nanosecond()))
	limit := t.AddDate(searchYears, 0, 0)
	for t.Before(limit) {
		var n time.Time
		switch {
		case s.month&(1<<uint(t.Month())) == 0:
			n = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, loc)
		case !s.dayMatches(t):
			n = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
		case s.hour&(1<<uint(t.Hour())) == 0:
			// Step in absolute time, so an hour repeated by a DST change
			// is visited twice and a skipped one not at all.
			n = t.Add(time.Duration(60-t.Minute()) * time.Minute)
		case s.minute&(1<<uint(t.Minute())) == 0:
			n = t.Add(time.Duration(minutesToNext(s.minute, t.Minute())) * time.Minute)
		default:
			return t
		}
		if !n.After(t) {
			// A zone transition made local midnight land before t.
			n = t.Add(time.Minute)
		}
		t = n
	}
	return time.Time{}
}

// minutesToNext is how many minutes from minute m to the next set bit of
// set, or to the next hour when there is none.
func minutesToNext(set uint64, m int) int {
	later := set &^ (1<<uint(m+1) - 1) & (1<<60 - 1)
	if later == 0 {
		return 60 - m
	}
	return bits.TrailingZeros64(later) - m
}

func (s *Schedule) dayMatches(t time.Time) bool {
	dom := s.dom&(1<<uint(t.Day())) != 0
	dow := s.dow&(1<<uint(t.Weekday())) != 0
	if s.domStar || s.dowStar {
		return dom && dow
	}
	return dom || dow
}
