// Package schedtest has fluent builders of pods and nodes for the
// scheduler's tests, e.g.
//
//	pod := schedtest.MakePod().Name("p").Req(map[corev1.ResourceName]string{"cpu": "2"}).Obj()
//	node := schedtest.MakeNode().Name("n1").Capacity(map[corev1.ResourceName]string{"cpu": "4"}).Obj()
//
// and a minimal framework.Handle over a snapshot for plugin unit tests.
// Test support only: nothing outside tests may import it.
package schedtest
