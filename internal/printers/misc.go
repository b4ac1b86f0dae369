package printers

import (
	"strconv"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func init() {
	register("discovery.k8s.io", "endpointslices", typed[*discoveryv1.EndpointSlice]{
		cols: []metav1.TableColumnDefinition{
			nameCol(),
			str("AddressType", "Type of the addresses in the slice."),
			str("Ports", "Ports exposed by the endpoints."),
			str("Endpoints", "Addresses of the endpoints."),
			ageCol(),
		},
		cells: func(o *discoveryv1.EndpointSlice, now time.Time) ([]interface{}, error) {
			return []interface{}{o.Name, string(o.AddressType), slicePorts(o.Ports), sliceEndpoints(o.Endpoints), age(o.ObjectMeta, now)}, nil
		},
	})
	register("coordination.k8s.io", "leases", typed[*coordinationv1.Lease]{
		cols: []metav1.TableColumnDefinition{nameCol(), str("Holder", "Identity of the current holder."), ageCol()},
		cells: func(o *coordinationv1.Lease, now time.Time) ([]interface{}, error) {
			return []interface{}{o.Name, derefOr(o.Spec.HolderIdentity, ""), age(o.ObjectMeta, now)}, nil
		},
	})
	register("policy", "poddisruptionbudgets", typed[*policyv1.PodDisruptionBudget]{
		cols: []metav1.TableColumnDefinition{
			nameCol(),
			str("Min Available", "Pods that must stay available."),
			str("Max Unavailable", "Pods that may be unavailable."),
			num("Allowed Disruptions", "Pod disruptions currently allowed."),
			ageCol(),
		},
		cells: func(o *policyv1.PodDisruptionBudget, now time.Time) ([]interface{}, error) {
			minA, maxU := "N/A", "N/A"
			if o.Spec.MinAvailable != nil {
				minA = o.Spec.MinAvailable.String()
			}
			if o.Spec.MaxUnavailable != nil {
				maxU = o.Spec.MaxUnavailable.String()
			}
			return []interface{}{o.Name, minA, maxU, int64(o.Status.DisruptionsAllowed), age(o.ObjectMeta, now)}, nil
		},
	})
	register("scheduling.k8s.io", "priorityclasses", typed[*schedulingv1.PriorityClass]{
		cols: []metav1.TableColumnDefinition{
			nameCol(),
			num("Value", "Priority value of the class."),
			col("Global-Default", "boolean", "Whether this class is the cluster default.", 0),
			ageCol(),
			str("PreemptionPolicy", "Whether pods of this class may preempt others."),
		},
		cells: func(o *schedulingv1.PriorityClass, now time.Time) ([]interface{}, error) {
			policy := string(corev1.PreemptLowerPriority) // the API default
			if o.PreemptionPolicy != nil {
				policy = string(*o.PreemptionPolicy)
			}
			return []interface{}{o.Name, int64(o.Value), o.GlobalDefault, age(o.ObjectMeta, now), policy}, nil
		},
	})
}

// slicePorts lists port numbers (or names, or "*" for all ports).
func slicePorts(ports []discoveryv1.EndpointPort) string {
	list := make([]string, 0, len(ports))
	for _, p := range ports {
		switch {
		case p.Port != nil:
			list = append(list, strconv.Itoa(int(*p.Port)))
		case p.Name != nil:
			list = append(list, *p.Name)
		default:
			list = append(list, "*")
		}
	}
	return moreList(list, len(list), 3, unset)
}

func sliceEndpoints(eps []discoveryv1.Endpoint) string {
	var list []string
	for _, e := range eps {
		list = append(list, e.Addresses...)
	}
	return moreList(list, len(list), 3, unset)
}
