package cronjob

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/navarch/navarch/internal/cron"
)

func mustParse(t *testing.T, spec string) *cron.Schedule {
	t.Helper()
	s, err := cron.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMostRecent(t *testing.T) {
	now := time.Date(2024, 5, 10, 10, 5, 30, 0, time.UTC)
	cases := []struct {
		name     string
		spec     string
		earliest time.Time
		want     time.Time
		missed   int
	}{
		{"none yet", "* * * * *", now.Add(-20 * time.Second), time.Time{}, 0},
		{"one", "* * * * *", now.Add(-time.Minute), time.Date(2024, 5, 10, 10, 5, 0, 0, time.UTC), 1},
		{"a few", "* * * * *", time.Date(2024, 5, 10, 10, 0, 0, 0, time.UTC), time.Date(2024, 5, 10, 10, 5, 0, 0, time.UTC), 5},
		{"exactly 100", "* * * * *", now.Add(-100 * time.Minute), time.Date(2024, 5, 10, 10, 5, 0, 0, time.UTC), 100},
		{"many every minute", "* * * * *", now.AddDate(-1, 0, 0), time.Date(2024, 5, 10, 10, 5, 0, 0, time.UTC), manyMissed + 1},
		{"many hourly", "0 * * * *", now.AddDate(0, -1, 0), time.Date(2024, 5, 10, 10, 0, 0, 0, time.UTC), manyMissed + 1},
		{"many yearly", "0 0 1 1 *", now.AddDate(-200, 0, 0), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), manyMissed + 1},
		{"many every second", "@every 1s", now.Add(-24*time.Hour + 250*time.Millisecond), now, manyMissed + 1},
		{"never", "0 0 30 2 *", now.AddDate(-1, 0, 0), time.Time{}, 0},
		{"future earliest", "* * * * *", now.Add(time.Hour), time.Time{}, 0},
	}
	for _, c := range cases {
		got, missed := mostRecent(mustParse(t, c.spec), c.earliest, now)
		if !got.Equal(c.want) || missed != c.missed {
			t.Errorf("%s: mostRecent = %v, %d; want %v, %d", c.name, got, missed, c.want, c.missed)
		}
	}
}

func BenchmarkMostRecentYearOfMinutes(b *testing.B) {
	s, _ := cron.Parse("* * * * *")
	now := time.Date(2024, 5, 10, 10, 5, 30, 0, time.UTC)
	for b.Loop() {
		mostRecent(s, now.AddDate(-1, 0, 0), now)
	}
}

func TestEarliestAndTooLate(t *testing.T) {
	created := time.Date(2024, 5, 10, 9, 0, 0, 0, time.UTC)
	now := created.Add(2 * time.Hour)
	last := metav1.NewTime(created.Add(time.Hour))
	cases := []struct {
		name     string
		last     *metav1.Time
		deadline *int64
		want     time.Time
	}{
		{"creation", nil, nil, created},
		{"last schedule", &last, nil, last.Time},
		{"deadline later than last", &last, ptr.To[int64](600), now.Add(-10 * time.Minute)},
		{"deadline earlier than last", &last, ptr.To[int64](3 * 3600), last.Time},
	}
	for _, c := range cases {
		cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(created)}}
		cj.Status.LastScheduleTime, cj.Spec.StartingDeadlineSeconds = c.last, c.deadline
		if got := earliestTime(cj, now); !got.Equal(c.want) {
			t.Errorf("%s: earliestTime = %v, want %v", c.name, got, c.want)
		}
	}
	cj := &batchv1.CronJob{Spec: batchv1.CronJobSpec{StartingDeadlineSeconds: ptr.To[int64](60)}}
	if !tooLate(cj, now.Add(-61*time.Second), now) || tooLate(cj, now.Add(-60*time.Second), now) {
		t.Error("tooLate is wrong around the 60 s deadline")
	}
	if tooLate(&batchv1.CronJob{}, now.AddDate(-1, 0, 0), now) {
		t.Error("without a deadline nothing is too late")
	}
}

func TestJobName(t *testing.T) {
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := jobName("hello", at); got != "hello-28401120" {
		t.Errorf("jobName = %q", got)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if jobName("hello", at.In(tokyo)) != jobName("hello", at) {
		t.Error("the job name depends on the zone")
	}
}

func TestExcess(t *testing.T) {
	job := func(name string, start int) *batchv1.Job {
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if start > 0 {
			st := metav1.NewTime(time.Unix(int64(start), 0))
			j.Status.StartTime = &st
		}
		return j
	}
	jobs := []*batchv1.Job{job("c", 30), job("never", 0), job("a", 10), job("b", 20)}
	cases := []struct {
		limit *int32
		want  []string
	}{
		{nil, nil},
		{ptr.To[int32](4), nil},
		{ptr.To[int32](2), []string{"a", "b"}},
		{ptr.To[int32](1), []string{"a", "b", "c"}},
		{ptr.To[int32](0), []string{"a", "b", "c", "never"}},
	}
	for _, c := range cases {
		var got []string
		for _, j := range excess(jobs, c.limit) {
			got = append(got, j.Name)
		}
		if len(got) != len(c.want) {
			t.Errorf("limit %v: %v, want %v", c.limit, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("limit %v: %v, want %v", c.limit, got, c.want)
				break
			}
		}
	}
}
