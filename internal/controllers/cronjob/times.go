package cronjob

import (
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
)

// manyMissed is how many missed activations upstream tolerates before it
// warns with TooManyMissedTimes.
const manyMissed = 100

// Schedule is what the timing logic needs of a parsed schedule.
type Schedule interface {
	Next(time.Time) time.Time
}

// mostRecent returns the latest activation in (earliest, now] and how
// many activations that interval holds, counted exactly up to
// manyMissed+1 (the count is capped there). It is the zero time when
// there is none. Times are in now's location.
func mostRecent(s Schedule, earliest, now time.Time) (time.Time, int) {
	earliest = earliest.In(now.Location())
	last := s.Next(earliest)
	if last.IsZero() || last.After(now) {
		return time.Time{}, 0
	}
	count := 1
	for count <= manyMissed {
		n := s.Next(last)
		if n.IsZero() || n.After(now) {
			return last, count
		}
		last, count = n, count+1
	}
	// Too many to walk (a controller down for months, or a clock gone
	// wrong): look back from now in growing windows for the latest one.
	for d := time.Minute; ; d *= 2 {
		from := now.Add(-d)
		if !from.After(last) {
			from = last
		}
		n := s.Next(from)
		if !n.IsZero() && !n.After(now) {
			for {
				m := s.Next(n)
				if m.IsZero() || m.After(now) {
					return n, count
				}
				n = m
			}
		}
		if from.Equal(last) {
			return last, count
		}
	}
}

// earliestTime is where the search for unmet activations starts: the last
// one that ran (or the CronJob's creation), but no earlier than
// startingDeadlineSeconds before now, since older ones may not start.
func earliestTime(cj *batchv1.CronJob, now time.Time) time.Time {
	earliest := cj.CreationTimestamp.Time
	if cj.Status.LastScheduleTime != nil {
		earliest = cj.Status.LastScheduleTime.Time
	}
	if d := cj.Spec.StartingDeadlineSeconds; d != nil {
		if limit := now.Add(-time.Duration(*d) * time.Second); limit.After(earliest) {
			earliest = limit
		}
	}
	return earliest
}

// tooLate reports whether an activation can no longer start under
// startingDeadlineSeconds.
func tooLate(cj *batchv1.CronJob, scheduled, now time.Time) bool {
	d := cj.Spec.StartingDeadlineSeconds
	return d != nil && scheduled.Add(time.Duration(*d)*time.Second).Before(now)
}

// jobName is the name of the Job for one activation: the minute is the
// identity of a run, so a retried attempt finds the Job it already made.
func jobName(cronJob string, scheduled time.Time) string {
	return fmt.Sprintf("%s-%d", cronJob, scheduled.Unix()/60)
}

// finished returns a Job's terminal condition type (Complete or Failed),
// or "" while it runs.
func finished(j *batchv1.Job) batchv1.JobConditionType {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == "True" {
			return c.Type
		}
	}
	return ""
}
