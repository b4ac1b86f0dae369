// Package batch holds the strategies and registry entries of the batch/v1
// resources, jobs and cronjobs: the upstream defaults, the server-generated
// job selector and pod labels, and validation including cron schedules.
// It also exports the cron schedule parser the CronJob controller uses.
//
// It must not do I/O, keep state or run jobs: that belongs to the
// controllers.
package batch
