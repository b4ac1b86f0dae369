// Package cron parses CronJob schedules and computes their activation
// times. It accepts what Kubernetes accepts: standard five-field cron
// (minute hour day-of-month month day-of-week, with names, ranges, lists,
// steps and "?"), the descriptors @yearly, @annually, @monthly, @weekly,
// @daily, @midnight and @hourly, "@every <duration>", and a leading
// CRON_TZ=<zone> or TZ=<zone>.
//
// Times are matched against the wall clock of the location they are given
// in, instant by instant, as upstream's cron library does: a wall-clock
// time that a daylight-saving change skips never fires, and one that it
// repeats fires twice. Zone data is embedded (time/tzdata) so zones load on
// hosts without /usr/share/zoneinfo.
//
// It must not do I/O or read the clock: callers pass the times. Both the
// CronJob controller and the API's validation (registry/batch) use it.
package cron
