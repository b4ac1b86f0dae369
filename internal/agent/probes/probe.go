package probes

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/navarch/navarch/internal/version"
)

// Target is what a probe needs to know about the container it checks.
type Target struct {
	ContainerID string
	// Host is the pod IP (the node IP for hostNetwork pods).
	Host      string
	Container *corev1.Container
}

// Runner executes one probe attempt.
type Runner struct {
	Runtime runtimeapi.RuntimeServiceClient
	client  *http.Client
}

// NewRunner returns a Runner executing exec probes through rt.
func NewRunner(rt runtimeapi.RuntimeServiceClient) *Runner {
	return &Runner{Runtime: rt, client: &http.Client{
		Transport: &http.Transport{
			// Probes check the container, not its certificate, as upstream.
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // as upstream
			DisableKeepAlives: true,
			Proxy:             nil,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			return nil
		},
	}}
}

// ErrUnknown is the output of an attempt that decided nothing: the
// runtime could not run the probe (it is restarting, say). Such attempts
// count neither as success nor as failure, as upstream's "unknown".
const ErrUnknown = "probe could not run: the container runtime did not answer"

// Run executes probe p once. ok is the verdict; output explains a failure
// (it ends up in the Unhealthy event), or is ErrUnknown.
func (r *Runner) Run(ctx context.Context, p *corev1.Probe, t Target) (ok bool, output string) {
	timeout := time.Duration(p.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case p.Exec != nil:
		return r.exec(ctx, p.Exec, t, timeout)
	case p.HTTPGet != nil:
		return r.http(ctx, p.HTTPGet, t, timeout)
	case p.TCPSocket != nil:
		return tcp(ctx, p.TCPSocket, t, timeout)
	case p.GRPC != nil:
		return grpcProbe(ctx, p.GRPC, t, timeout)
	}
	return false, "probe has no handler"
}

func (r *Runner) exec(ctx context.Context, e *corev1.ExecAction, t Target, timeout time.Duration) (bool, string) {
	resp, err := r.Runtime.ExecSync(ctx, &runtimeapi.ExecSyncRequest{ContainerId: t.ContainerID, Cmd: e.Command, Timeout: int64(timeout / time.Second)})
	if err != nil {
		if ctx.Err() != nil {
			return false, fmt.Sprintf("command %q timed out", strings.Join(e.Command, " "))
		}
		if status.Code(err) == codes.Unavailable {
			return false, ErrUnknown
		}
		return false, err.Error()
	}
	out := string(resp.Stdout) + string(resp.Stderr)
	if resp.ExitCode != 0 {
		if out == "" {
			out = fmt.Sprintf("command %q exited with %d", strings.Join(e.Command, " "), resp.ExitCode)
		}
		return false, strings.TrimSpace(out)
	}
	return true, out
}

// ResolvePort turns a named or numeric port into a number.
func ResolvePort(p intstr.IntOrString, c *corev1.Container) (int, error) {
	if p.Type == intstr.Int {
		if p.IntVal <= 0 || p.IntVal > 65535 {
			return 0, fmt.Errorf("invalid port number: %d", p.IntVal)
		}
		return int(p.IntVal), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("couldn't find port %q in container %s", p.StrVal, c.Name)
}

func (r *Runner) http(ctx context.Context, h *corev1.HTTPGetAction, t Target, timeout time.Duration) (bool, string) {
	port, err := ResolvePort(h.Port, t.Container)
	if err != nil {
		return false, err.Error()
	}
	host := h.Host
	if host == "" {
		host = t.Host
	}
	scheme := strings.ToLower(string(h.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	path := h.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u := &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(port))}
	if p, q, ok := strings.Cut(path, "?"); ok {
		u.Path, u.RawQuery = p, q
	} else {
		u.Path = path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, err.Error()
	}
	req.Header.Set("User-Agent", "kube-probe/"+version.Major+"."+version.Minor)
	req.Header.Set("Accept", "*/*")
	for _, hd := range h.HTTPHeaders {
		if strings.EqualFold(hd.Name, "host") {
			req.Host = hd.Value
			continue
		}
		req.Header.Add(hd.Name, hd.Value)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, fmt.Sprintf("Get %q: context deadline exceeded (Client.Timeout exceeded while awaiting headers)", u.String())
		}
		return false, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 10<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 400 {
		return true, string(body)
	}
	return false, fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode)
}

func tcp(ctx context.Context, s *corev1.TCPSocketAction, t Target, timeout time.Duration) (bool, string) {
	port, err := ResolvePort(s.Port, t.Container)
	if err != nil {
		return false, err.Error()
	}
	host := s.Host
	if host == "" {
		host = t.Host
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return false, err.Error()
	}
	_ = conn.Close()
	return true, ""
}

func grpcProbe(ctx context.Context, g *corev1.GRPCAction, t Target, timeout time.Duration) (bool, string) {
	addr := net.JoinHostPort(t.Host, strconv.Itoa(int(g.Port)))
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return false, err.Error()
	}
	defer conn.Close()
	svc := ""
	if g.Service != nil {
		svc = *g.Service
	}
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
	if err != nil {
		if ctx.Err() != nil {
			return false, fmt.Sprintf("timeout: health rpc did not complete within %v", timeout)
		}
		return false, fmt.Sprintf("failed to connect service %q within %v: %v", addr, timeout, err)
	}
	if resp.Status != healthpb.HealthCheckResponse_SERVING {
		return false, fmt.Sprintf("service unhealthy (responded with %q)", resp.Status)
	}
	return true, ""
}
