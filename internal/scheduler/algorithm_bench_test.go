package scheduler

import (
	"context"
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/navarch/navarch/internal/scheduler/config"
	"github.com/navarch/navarch/internal/scheduler/framework"
	"github.com/navarch/navarch/internal/scheduler/schedtest"
)

// BenchmarkSchedulePod measures one scheduling cycle (snapshot, filter,
// score, assume) at 5,000 nodes, without the API: the scheduler's own
// share of the cost of `navarch bench scheduler`.
func BenchmarkSchedulePod(b *testing.B) {
	for _, wl := range []string{"basic", "anti-affinity", "spreading"} {
		for _, par := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/parallelism=%d", wl, par), func(b *testing.B) { benchSchedule(b, wl, par) })
		}
	}
}

func benchSchedule(b *testing.B, workload string, parallelism int) {
	conf, err := config.Parse(fmt.Appendf(nil, "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nparallelism: %d\n", parallelism))
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(context.Background(), Config{Client: fake.NewClientset(), Configuration: conf})
	if err != nil {
		b.Fatal(err)
	}
	fwk := s.profiles[config.DefaultSchedulerName]
	for i := range 5000 {
		s.cache.AddNode(schedtest.MakeNode().Name("n" + strconv.Itoa(i)).Zone("z" + strconv.Itoa(i%3)).
			Capacity(map[corev1.ResourceName]string{"cpu": "4", "memory": "32Gi", "pods": "110"}).Obj())
	}
	pod := func(i int) *corev1.Pod {
		p := schedtest.MakePod().Name("p" + strconv.Itoa(i)).Req(map[corev1.ResourceName]string{"cpu": "100m", "memory": "500Mi"})
		switch workload {
		case "anti-affinity":
			c := map[string]string{"color": "c" + strconv.Itoa((i%10+10)%10)}
			p.Labels(c).PodAntiAffinity(corev1.LabelHostname, c)
		case "spreading":
			p.Label("color", "blue").SpreadConstraint(5, corev1.LabelTopologyZone, corev1.DoNotSchedule, map[string]string{"color": "blue"})
		}
		return p.Obj()
	}
	place := func(i int) {
		pi := framework.NewPodInfo(pod(i))
		state := framework.NewCycleState()
		framework.WritePodInfo(state, pi)
		host, err := s.schedulePod(context.Background(), fwk, state, pi)
		if err != nil {
			b.Fatal(err)
		}
		p := *pi.Pod
		p.Spec.NodeName = host
		a := *pi
		a.Pod = &p
		if err := s.cache.AssumePod(&a); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 1000 {
		place(-1 - i)
	}
	// CPU time per pod is the figure that counts on a shared 2-core box:
	// wall time there mostly measures the neighbours.
	before := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		place(i)
	}
	b.ReportMetric(float64((cpuTime()-before).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
