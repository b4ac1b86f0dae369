package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// kubectlTimeout bounds every kubectl call so a hung request fails the test
// instead of the whole run.
const kubectlTimeout = 60 * time.Second

// kubectlRun is one kubectl invocation against a server.
type kubectlRun struct {
	srv   *server
	args  []string
	stdin string
	env   []string
	// mergeStderr sends stderr into the stdout stream (for streaming).
	mergeStderr bool
}

// result is what a kubectl invocation printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

func (k kubectlRun) command(ctx context.Context) *exec.Cmd {
	args := append([]string{"--kubeconfig", k.srv.kubeconfig, "--cache-dir", k.srv.cacheDir}, k.args...)
	cmd := exec.CommandContext(ctx, kubectlPath, args...)
	cmd.Env = append(os.Environ(), k.env...)
	if k.stdin != "" {
		cmd.Stdin = strings.NewReader(k.stdin)
	}
	return cmd
}

func (k kubectlRun) run(t *testing.T) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	cmd := k.command(ctx)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := result{stdout: out.String(), stderr: errb.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		t.Fatalf("kubectl %s: %v", strings.Join(k.args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("kubectl %s: timed out after %s", strings.Join(k.args, " "), kubectlTimeout)
	}
	return res
}

// kubectl runs kubectl against the shared server and returns its stdout,
// failing the test (with stderr) on a non-zero exit.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	return mustSucceed(t, kubectlRun{srv: requireServer(t), args: args})
}

// kubectlIn is kubectl with stdin, for `-f -`.
func kubectlIn(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	return mustSucceed(t, kubectlRun{srv: requireServer(t), args: args, stdin: stdin})
}

// kubectlFail runs kubectl expecting a non-zero exit and returns stderr.
func kubectlFail(t *testing.T, args ...string) string {
	t.Helper()
	res := kubectlRun{srv: requireServer(t), args: args}.run(t)
	if res.code == 0 {
		t.Fatalf("kubectl %s: succeeded, want failure\nstdout:\n%s", strings.Join(args, " "), res.stdout)
	}
	return res.stderr
}

func mustSucceed(t *testing.T, k kubectlRun) string {
	t.Helper()
	return mustRun(t, k).stdout
}

// mustRun runs k and fails on a non-zero exit; the result keeps stderr.
func mustRun(t *testing.T, k kubectlRun) result {
	t.Helper()
	res := k.run(t)
	if res.code != 0 {
		t.Fatalf("kubectl %s: exit %d%s\nstderr:\n%s\nstdout:\n%s", strings.Join(k.args, " "), res.code, k.srv.health(), res.stderr, res.stdout)
	}
	return res
}

// newNamespace creates e2e-<name> and returns it. Namespaces are left
// behind: namespace deletion needs a controller that does not exist yet.
func newNamespace(t *testing.T, name string) string {
	t.Helper()
	ns := "e2e-" + name
	if got := kubectl(t, "create", "namespace", ns); strings.TrimSpace(got) != "namespace/"+ns+" created" {
		t.Fatalf("create namespace: got %q", got)
	}
	return ns
}

// kubectlOn is kubectl against a server other than the shared one.
func kubectlOn(t *testing.T, srv *server, stdin string, args ...string) string {
	t.Helper()
	return mustSucceed(t, kubectlRun{srv: srv, args: args, stdin: stdin})
}
