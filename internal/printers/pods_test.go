package printers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func podWith(mutate func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: objMeta("web", 10*time.Minute),
		Spec: corev1.PodSpec{
			NodeName:   "node-a",
			Containers: []corev1.Container{{Name: "app", Image: "nginx"}},
		},
		Status: corev1.PodStatus{
			Phase:  corev1.PodRunning,
			PodIP:  "10.1.0.5",
			PodIPs: []corev1.PodIP{{IP: "10.1.0.5"}},
			ContainerStatuses: []corev1.ContainerStatus{{
				Name: "app", Ready: true,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ago(9 * time.Minute)}},
			}},
		},
	}
	if mutate != nil {
		mutate(p)
	}
	return p
}

func waiting(reason string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
}

func terminated(reason string, code int32) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: code}}
}

// podRow is READY, STATUS, RESTARTS: the cells pod tests care about.
type podRow struct{ ready, status, restarts string }

func TestPodStatusColumns(t *testing.T) {
	tests := []struct {
		name string
		pod  *corev1.Pod
		want podRow
	}{
		{"running", podWith(nil), podRow{"1/1", "Running", "0"}},
		{"crash loop with restarts", podWith(func(p *corev1.Pod) {
			cs := &p.Status.ContainerStatuses[0]
			cs.Ready, cs.RestartCount = false, 3
			cs.State = waiting("CrashLoopBackOff")
			cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 1, Reason: "Error", FinishedAt: ago(2 * time.Minute),
			}}
		}), podRow{"0/1", "CrashLoopBackOff", "3 (2m ago)"}},
		{"container creating", podWith(func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodPending
			p.Status.ContainerStatuses[0].Ready = false
			p.Status.ContainerStatuses[0].State = waiting("ContainerCreating")
		}), podRow{"0/1", "ContainerCreating", "0"}},
		{"image pull error", podWith(func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodPending
			p.Status.ContainerStatuses[0].Ready = false
			p.Status.ContainerStatuses[0].State = waiting("ErrImagePull")
		}), podRow{"0/1", "ErrImagePull", "0"}},
		{"completed", podWith(func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodSucceeded
			p.Status.ContainerStatuses[0].Ready = false
			p.Status.ContainerStatuses[0].State = terminated("Completed", 0)
		}), podRow{"0/1", "Completed", "0"}},
		{"oom killed", podWith(func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodFailed
			p.Status.ContainerStatuses[0].Ready = false
			p.Status.ContainerStatuses[0].State = terminated("OOMKilled", 137)
		}), podRow{"0/1", "OOMKilled", "0"}},
		{"terminated without reason", podWith(func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].Ready = false
			p.Status.ContainerStatuses[0].State = terminated("", 2)
		}), podRow{"0/1", "ExitCode:2", "0"}},
		{"first container problem wins", podWith(func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "side"})
			p.Status.ContainerStatuses = []corev1.ContainerStatus{
				{Name: "app", State: waiting("ImagePullBackOff")},
				{Name: "side", State: waiting("ContainerCreating")},
			}
		}), podRow{"0/2", "ImagePullBackOff", "0"}},
		{"completed container beside running one", podWith(func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "job"})
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses,
				corev1.ContainerStatus{Name: "job", State: terminated("Completed", 0)})
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
		}), podRow{"1/2", "NotReady", "0"}},
		{"init waiting", podWith(func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodPending
			p.Spec.InitContainers = []corev1.Container{{Name: "init"}}
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "init", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
			p.Status.ContainerStatuses[0].Ready = false
			p.Status.ContainerStatuses[0].State = waiting("PodInitializing")
		}), podRow{"0/1", "Init:0/1", "0"}},
		{"init crash loop", podWith(func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodPending
			p.Spec.InitContainers = []corev1.Container{{Name: "a"}, {Name: "b"}}
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{
				{Name: "a", State: terminated("Completed", 0)},
				{Name: "b", RestartCount: 4, State: waiting("CrashLoopBackOff")},
			}
			p.Status.ContainerStatuses[0].Ready = false
			p.Status.ContainerStatuses[0].State = waiting("PodInitializing")
		}), podRow{"0/1", "Init:CrashLoopBackOff", "4"}},
		{"init failed", podWith(func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodPending
			p.Spec.InitContainers = []corev1.Container{{Name: "a"}}
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "a", State: terminated("Error", 1)}}
		}), podRow{"0/1", "Init:Error", "0"}},
		{"running sidecar counts as ready", podWith(func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "proxy", RestartPolicy: ptr(corev1.ContainerRestartPolicyAlways)}}
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{
				Name: "proxy", Ready: true, Started: ptr(true), RestartCount: 1,
				State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: ago(time.Hour)}},
			}}
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}}
		}), podRow{"2/2", "Running", "1 (60m ago)"}},
		{"terminating", podWith(func(p *corev1.Pod) {
			p.DeletionTimestamp = agoPtr(time.Second)
		}), podRow{"1/1", "Terminating", "0"}},
		{"node lost", podWith(func(p *corev1.Pod) {
			p.Status.Reason = "NodeLost"
		}), podRow{"1/1", "NodeLost", "0"}},
		{"node lost and deleted", podWith(func(p *corev1.Pod) {
			p.Status.Reason = "NodeLost"
			p.DeletionTimestamp = agoPtr(time.Second)
		}), podRow{"1/1", "Unknown", "0"}},
		{"evicted", podWith(func(p *corev1.Pod) {
			p.Status.Phase, p.Status.Reason = corev1.PodFailed, "Evicted"
			p.Status.ContainerStatuses = nil
		}), podRow{"0/1", "Evicted", "0"}},
		{"scheduling gated", podWith(func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodPending
			p.Status.ContainerStatuses = nil
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "SchedulingGated"}}
		}), podRow{"0/1", "SchedulingGated", "0"}},
	}
	p := For(schema.GroupResource{Resource: "pods"})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cells, err := p.Cells(tc.pod, now)
			if err != nil {
				t.Fatal(err)
			}
			got := podRow{cells[1].(string), cells[2].(string), cells[3].(string)}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestPodWideColumns(t *testing.T) {
	p := For(schema.GroupResource{Resource: "pods"})
	if got, want := columnNames(p, 0), []string{"Name", "Ready", "Status", "Restarts", "Age"}; !equal(got, want) {
		t.Errorf("columns %v, want %v", got, want)
	}
	if got, want := columnNames(p, 1), []string{"IP", "Node", "Nominated Node", "Readiness Gates"}; !equal(got, want) {
		t.Errorf("wide columns %v, want %v", got, want)
	}
	gated := podWith(func(p *corev1.Pod) {
		p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "lb-ready"}, {ConditionType: "dns"}}
		p.Status.Conditions = []corev1.PodCondition{{Type: "lb-ready", Status: corev1.ConditionTrue}}
	})
	runCells(t, schema.GroupResource{Resource: "pods"}, []cellCase{
		{"scheduled", podWith(nil), []interface{}{"web", "1/1", "Running", "0", "10m", "10.1.0.5", "node-a", "<none>", "<none>"}},
		{"unscheduled", podWith(func(p *corev1.Pod) {
			p.Spec.NodeName, p.Status.PodIP, p.Status.PodIPs = "", "", nil
			p.Status.NominatedNodeName = "node-b"
		}), []interface{}{"web", "1/1", "Running", "0", "10m", "<none>", "<none>", "node-b", "<none>"}},
		{"readiness gates", gated, []interface{}{"web", "1/1", "Running", "0", "10m", "10.1.0.5", "node-a", "<none>", "1/2"}},
	})
}

func TestPodRowConditions(t *testing.T) {
	rc := For(schema.GroupResource{Resource: "pods"}).(rowConditioner)
	tests := []struct {
		phase corev1.PodPhase
		want  string
	}{{corev1.PodRunning, ""}, {corev1.PodSucceeded, "Succeeded"}, {corev1.PodFailed, "Failed"}}
	for _, tc := range tests {
		conds := rc.RowConditions(podWith(func(p *corev1.Pod) { p.Status.Phase = tc.phase }))
		got := ""
		if len(conds) == 1 && conds[0].Type == metav1.RowCompleted {
			got = conds[0].Reason
		}
		if got != tc.want {
			t.Errorf("phase %s: got reason %q, want %q", tc.phase, got, tc.want)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
