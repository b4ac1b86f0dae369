package streaming

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"sync"
	"testing"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// fakeRuntime serves the few CRI calls the handler makes.
type fakeRuntime struct {
	runtimeapi.RuntimeServiceClient
	mu         sync.Mutex
	containers map[string]*runtimeapi.ContainerStatus
	// streamURL answers Exec, Attach and PortForward.
	streamURL string
	lastExec  *runtimeapi.ExecRequest
	lastAtt   *runtimeapi.AttachRequest
	lastPF    *runtimeapi.PortForwardRequest
}

func (f *fakeRuntime) ContainerStatus(_ context.Context, req *runtimeapi.ContainerStatusRequest, _ ...grpc.CallOption) (*runtimeapi.ContainerStatusResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.containers[req.ContainerId]
	if !ok {
		return nil, fmt.Errorf("rpc error: code = NotFound desc = container %q not found", req.ContainerId)
	}
	return &runtimeapi.ContainerStatusResponse{Status: st}, nil
}

func (f *fakeRuntime) setState(id string, s runtimeapi.ContainerState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.containers[id].State = s
}

func (f *fakeRuntime) Exec(_ context.Context, req *runtimeapi.ExecRequest, _ ...grpc.CallOption) (*runtimeapi.ExecResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastExec = req
	return &runtimeapi.ExecResponse{Url: f.streamURL + "/exec"}, nil
}

func (f *fakeRuntime) Attach(_ context.Context, req *runtimeapi.AttachRequest, _ ...grpc.CallOption) (*runtimeapi.AttachResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastAtt = req
	return &runtimeapi.AttachResponse{Url: f.streamURL + "/attach"}, nil
}

func (f *fakeRuntime) PortForward(_ context.Context, req *runtimeapi.PortForwardRequest, _ ...grpc.CallOption) (*runtimeapi.PortForwardResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastPF = req
	return &runtimeapi.PortForwardResponse{Url: f.streamURL + "/portforward"}, nil
}

// fakePods knows one pod, default/web, with container app (ID "c1",
// previous instance "c0") and sandbox "s1".
type fakePods struct{}

func (fakePods) ContainerID(ns, name, container string, previous bool) (string, error) {
	if ns != "default" || name != "web" {
		return "", fmt.Errorf("pod %s/%s: %w", ns, name, ErrPodNotFound)
	}
	if container != "app" {
		return "", fmt.Errorf("container %q in pod %q is not available", container, name)
	}
	if previous {
		return "c0", nil
	}
	return "c1", nil
}

func (fakePods) SandboxID(ns, name string) (string, error) {
	if ns != "default" || name != "web" {
		return "", fmt.Errorf("pod %s/%s: %w", ns, name, ErrPodNotFound)
	}
	return "s1", nil
}

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }

func b64enc(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func b64dec(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64: %v", err)
	}
	return string(b)
}
