package replicaset

import (
	"sync"

	"github.com/navarch/navarch/internal/controllers/controller"
)

// expectations add deletion tracking by pod key to the shared counters: a
// pod is seen going away twice (once terminating, once deleted), and must
// lower the count only once, or the controller would believe its deletions
// done while some are still in the cache and delete more pods.
type expectations struct {
	*controller.Expectations
	mu       sync.Mutex
	deleting map[string]map[string]bool // owner key -> pod keys
}

func newExpectations() *expectations {
	return &expectations{Expectations: controller.NewExpectations(), deleting: map[string]map[string]bool{}}
}

// expectDeletions records that the pods podKeys are being deleted.
func (e *expectations) expectDeletions(key string, podKeys []string) {
	e.mu.Lock()
	set := make(map[string]bool, len(podKeys))
	for _, k := range podKeys {
		set[k] = true
	}
	e.deleting[key] = set
	e.mu.Unlock()
	e.Expect(key, 0, len(podKeys))
}

// deletionObserved lowers the count once per tracked pod.
func (e *expectations) deletionObserved(key, podKey string) {
	e.mu.Lock()
	tracked := e.deleting[key][podKey]
	if tracked {
		delete(e.deleting[key], podKey)
	}
	e.mu.Unlock()
	if tracked {
		e.DeletionObserved(key)
	}
}

func (e *expectations) forget(key string) {
	e.mu.Lock()
	delete(e.deleting, key)
	e.mu.Unlock()
	e.Forget(key)
}
