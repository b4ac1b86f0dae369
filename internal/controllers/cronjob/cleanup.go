package cronjob

import (
	"context"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
)

// cleanup deletes the oldest finished Jobs beyond
// successfulJobsHistoryLimit and failedJobsHistoryLimit (an unset limit
// keeps everything).
func (c *Controller) cleanup(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) error {
	if cj.DeletionTimestamp != nil {
		return nil // the garbage collector takes them all
	}
	var succeeded, failed []*batchv1.Job
	for _, j := range jobs {
		if j.DeletionTimestamp != nil {
			continue
		}
		switch finished(j) {
		case batchv1.JobComplete:
			succeeded = append(succeeded, j)
		case batchv1.JobFailed:
			failed = append(failed, j)
		}
	}
	for _, doomed := range [][]*batchv1.Job{
		excess(succeeded, cj.Spec.SuccessfulJobsHistoryLimit),
		excess(failed, cj.Spec.FailedJobsHistoryLimit),
	} {
		for _, j := range doomed {
			if err := c.deleteJob(ctx, cj, j.Name, j.UID); err != nil {
				return err
			}
		}
	}
	return nil
}

// excess returns the oldest jobs (by start time; never started ones count
// as newest) beyond limit, or none when limit is unset.
func excess(jobs []*batchv1.Job, limit *int32) []*batchv1.Job {
	if limit == nil || len(jobs) <= int(max(*limit, 0)) {
		return nil
	}
	sorted := slices.Clone(jobs)
	slices.SortStableFunc(sorted, func(a, b *batchv1.Job) int {
		sa, sb := a.Status.StartTime, b.Status.StartTime
		switch {
		case sa == nil && sb == nil:
		case sa == nil:
			return 1
		case sb == nil:
			return -1
		case !sa.Equal(sb):
			return sa.Time.Compare(sb.Time)
		}
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return sorted[:len(sorted)-int(max(*limit, 0))]
}
