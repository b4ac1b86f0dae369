package storage

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// mapErr wraps an etcd client error in the matching error class, keeping the
// original error (and its message) in the chain.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if class := classify(err); class != nil {
		return fmt.Errorf("%s: %w: %w", op, class, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// classify returns the error class of an etcd error, or nil when none fits.
func classify(err error) error {
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		return ErrCompacted
	case errors.Is(err, rpctypes.ErrFutureRev):
		return ErrFutureRevision
	case errors.Is(err, context.DeadlineExceeded):
		return ErrUnavailable
	case errors.Is(err, rpctypes.ErrRequestTooLarge), errors.Is(err, rpctypes.ErrGRPCRequestTooLarge):
		return ErrTooLarge
	}
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		return classifyCode(ee.Code())
	}
	if st, ok := status.FromError(err); ok {
		return classifyCode(st.Code())
	}
	return nil
}

func classifyCode(c codes.Code) error {
	switch c {
	case codes.Unavailable, codes.DeadlineExceeded:
		return ErrUnavailable
	case codes.ResourceExhausted:
		return ErrTooLarge
	}
	return nil
}
