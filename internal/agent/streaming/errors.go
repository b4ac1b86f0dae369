package streaming

import (
	"errors"
)

// ErrPodNotFound is what Pods returns (wrapped) for a pod the agent does not
// run; the handler answers 404.
var ErrPodNotFound = errors.New("pod not found")
