package manager

import (
	"slices"

	"github.com/navarch/navarch/internal/controllers/cronjob"
	"github.com/navarch/navarch/internal/controllers/daemonset"
	"github.com/navarch/navarch/internal/controllers/deployment"
	"github.com/navarch/navarch/internal/controllers/endpoint"
	"github.com/navarch/navarch/internal/controllers/endpointslice"
	"github.com/navarch/navarch/internal/controllers/garbagecollector"
	"github.com/navarch/navarch/internal/controllers/job"
	"github.com/navarch/navarch/internal/controllers/namespace"
	"github.com/navarch/navarch/internal/controllers/nodeipam"
	"github.com/navarch/navarch/internal/controllers/nodelifecycle"
	"github.com/navarch/navarch/internal/controllers/podgc"
	"github.com/navarch/navarch/internal/controllers/replicaset"
	"github.com/navarch/navarch/internal/controllers/replication"
	"github.com/navarch/navarch/internal/controllers/serviceaccount"
	"github.com/navarch/navarch/internal/controllers/servicelb"
	"github.com/navarch/navarch/internal/controllers/statefulset"
	"github.com/navarch/navarch/internal/controllers/ttlafterfinished"
)

// named is one entry of the controller list.
type named struct {
	name string
	new  Constructor
}

// all lists every controller in start order. Controllers join this list
// as they are built.
var all = []named{
	{replicaset.Name, replicaset.New},
	{replication.Name, replication.New},
	{deployment.Name, deployment.New},
	{daemonset.Name, daemonset.New},
	{statefulset.Name, statefulset.New},
	{job.Name, job.New},
	{cronjob.Name, cronjob.New},
	{ttlafterfinished.Name, ttlafterfinished.New},
	{namespace.Name, namespace.New},
	{serviceaccount.Name, serviceaccount.New},
	{garbagecollector.Name, garbagecollector.New},
	{nodeipam.Name, nodeipam.New},
	{nodelifecycle.Name, nodelifecycle.New},
	{podgc.Name, podgc.New},
	{endpoint.Name, endpoint.New},
	{endpointslice.Name, endpointslice.New},
	{endpointslice.MirroringName, endpointslice.NewMirroring},
	{servicelb.Name, servicelb.New},
}

func enabled(disabled []string) []named {
	var out []named
	for _, c := range all {
		if !slices.Contains(disabled, c.name) {
			out = append(out, c)
		}
	}
	return out
}

// Names lists every known controller (for --disable-controllers help).
func Names() []string {
	out := make([]string, 0, len(all))
	for _, c := range all {
		out = append(out, c.name)
	}
	return out
}
