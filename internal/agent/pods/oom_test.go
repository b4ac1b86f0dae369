package pods

import (
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestMaybeOOMKilled(t *testing.T) {
	now := time.Unix(1000, 0)
	exited := func(code int32, reason string, ago time.Duration) *runtimeapi.ContainerStatus {
		return &runtimeapi.ContainerStatus{State: runtimeapi.ContainerState_CONTAINER_EXITED, ExitCode: code, Reason: reason,
			FinishedAt: now.Add(-ago).UnixNano()}
	}
	cases := []struct {
		name string
		s    *runtimeapi.ContainerStatus
		want bool
	}{
		{"fresh SIGKILL, no reason", exited(137, "", 100*time.Millisecond), true},
		{"reason arrived", exited(137, "OOMKilled", 100*time.Millisecond), false},
		{"fresh SIGKILL said Error before the OOM event", exited(137, "Error", 2*time.Second), true},
		{"old SIGKILL", exited(137, "", 3*time.Second), false},
		{"old SIGKILL said Error", exited(137, "Error", 4*time.Second), false},
		{"other reason", exited(137, "ContainerCannotRun", 100*time.Millisecond), false},
		{"other exit code", exited(1, "", 100*time.Millisecond), false},
		{"running", &runtimeapi.ContainerStatus{State: runtimeapi.ContainerState_CONTAINER_RUNNING, ExitCode: 137}, false},
	}
	for _, tc := range cases {
		if got := maybeOOMKilled(tc.s, now); got != tc.want {
			t.Errorf("%s: maybeOOMKilled = %v, want %v", tc.name, got, tc.want)
		}
	}
}
