// Package cronjob is the CronJob controller: it creates a Job from
// spec.jobTemplate at every activation of spec.schedule (in spec.timeZone,
// a CRON_TZ prefix, or the controller's zone), honouring suspend,
// concurrencyPolicy (Allow, Forbid, Replace) and startingDeadlineSeconds,
// keeps status.active, lastScheduleTime and lastSuccessfulTime, and deletes
// finished Jobs beyond the history limits.
//
// A missed activation (the controller was down, or Forbid held it back)
// runs late, once: only the most recent missed time is started, and more
// than 100 missed times are reported with a TooManyMissedTimes event.
// Jobs are named <cronjob>-<scheduled time in minutes since the epoch>, so
// a repeated attempt for the same time finds the existing Job instead of
// running twice.
//
// It requeues each CronJob exactly at its next activation on an injectable
// clock, instead of polling. It must not manage pods: the Job controller
// does that.
package cronjob
