// Package hollow runs simulated ("hollow") nodes: thousands of them in one
// process, each behaving towards the API server the way a kubelet does.
//
// A hollow node registers its Node (capacity and allocatable cpu, memory,
// pods and ephemeral-storage; Ready, MemoryPressure, DiskPressure and
// PIDPressure conditions; nodeInfo; an InternalIP address; the kubelet
// endpoint), keeps its Lease in kube-node-lease fresh every RenewInterval,
// and reports its status again every StatusInterval or when it resumes
// after StopHeartbeat. With RunPods it "runs" the pods bound to it: it
// reports them Running and Ready with running container statuses and pod
// and host IPs, and confirms the deletion of a pod that has a
// deletionTimestamp by deleting it with grace period 0, as the kubelet does
// once the containers are gone.
//
// All nodes of a Cluster share one pod informer, one work queue and one
// write rate limiter, so a Cluster of 5,000 nodes costs one watch.
//
// Usage:
//
//	c, err := hollow.Start(ctx, hollow.Config{Client: client, Count: 3, RunPods: true})
//	defer c.Stop()
//	c.StopHeartbeat(c.Names()[0]) // the node "dies": its Lease goes stale
//
// The package talks to the API only through client-go. It is a simulator
// for tests and benchmarks: it must not run containers, touch the host, or
// import the API server's packages.
package hollow
