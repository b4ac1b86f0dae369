package cri

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// maxMsgSize matches the kubelet's: ListContainers on a busy node and
// ExecSync output can exceed gRPC's 4 MiB default.
const maxMsgSize = 16 << 20

// Client is a connection to a CRI runtime.
type Client struct {
	Runtime runtimeapi.RuntimeServiceClient
	Images  runtimeapi.ImageServiceClient
	conn    *grpc.ClientConn
}

// Dial connects to endpoint, a unix socket path or "unix://" URL. gRPC
// reconnects by itself, so a runtime restarted behind the same socket is
// picked up without a new Dial.
func Dial(endpoint string) (*Client, error) {
	target := endpoint
	if !strings.Contains(target, "://") {
		target = "unix://" + target
	}
	conn, err := grpc.NewClient(target,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsgSize), grpc.MaxCallSendMsgSize(maxMsgSize)))
	if err != nil {
		return nil, fmt.Errorf("dial CRI %s: %w", endpoint, err)
	}
	return &Client{Runtime: runtimeapi.NewRuntimeServiceClient(conn), Images: runtimeapi.NewImageServiceClient(conn), conn: conn}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// WaitReady waits until the runtime answers Version, up to timeout.
func (c *Client) WaitReady(ctx context.Context, timeout time.Duration) (*runtimeapi.VersionResponse, error) {
	deadline := time.Now().Add(timeout)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		v, err := c.Runtime.Version(cctx, &runtimeapi.VersionRequest{})
		cancel()
		if err == nil {
			return v, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("container runtime not answering: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// IsNotFound reports whether err is the runtime saying an object is gone.
func IsNotFound(err error) bool {
	return status.Code(err) == codes.NotFound
}
