package replication

import (
	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/replicaset"
)

// Name is the controller's name in --disable-controllers.
const Name = replicaset.RCName

// New returns the ReplicationController controller.
func New(cc controller.Context) (controller.Controller, error) { return replicaset.NewForRC(cc) }
