package printers

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func init() {
	register("", "namespaces", typed[*corev1.Namespace]{
		cols: []metav1.TableColumnDefinition{nameCol(), str("Status", "The lifecycle phase of the namespace."), ageCol()},
		cells: func(o *corev1.Namespace, now time.Time) ([]interface{}, error) {
			return []interface{}{o.Name, string(o.Status.Phase), age(o.ObjectMeta, now)}, nil
		},
	})
	register("", "configmaps", typed[*corev1.ConfigMap]{
		cols: []metav1.TableColumnDefinition{nameCol(), num("Data", "Number of keys in data and binaryData."), ageCol()},
		cells: func(o *corev1.ConfigMap, now time.Time) ([]interface{}, error) {
			return []interface{}{o.Name, int64(len(o.Data) + len(o.BinaryData)), age(o.ObjectMeta, now)}, nil
		},
	})
	register("", "secrets", typed[*corev1.Secret]{
		cols: []metav1.TableColumnDefinition{nameCol(), str("Type", "The type of the secret."), num("Data", "Number of keys in the secret."), ageCol()},
		cells: func(o *corev1.Secret, now time.Time) ([]interface{}, error) {
			return []interface{}{o.Name, string(o.Type), int64(len(o.Data)), age(o.ObjectMeta, now)}, nil
		},
	})
	register("", "serviceaccounts", typed[*corev1.ServiceAccount]{
		cols: []metav1.TableColumnDefinition{nameCol(), num("Secrets", "Number of secrets referenced by the account."), ageCol()},
		cells: func(o *corev1.ServiceAccount, now time.Time) ([]interface{}, error) {
			return []interface{}{o.Name, int64(len(o.Secrets)), age(o.ObjectMeta, now)}, nil
		},
	})
	register("", "replicationcontrollers", typed[*corev1.ReplicationController]{
		cols: []metav1.TableColumnDefinition{
			nameCol(),
			num("Desired", "Number of desired replicas."),
			num("Current", "Number of replicas that currently exist."),
			num("Ready", "Number of replicas that are ready."),
			ageCol(),
			wide("Containers", "Names of the containers in the pod template."),
			wide("Images", "Images of the containers in the pod template."),
			wide("Selector", "Label selector for the controlled pods."),
		},
		cells: rcCells,
	})
	register("", "endpoints", typed[*corev1.Endpoints]{
		cols: []metav1.TableColumnDefinition{nameCol(), str("Endpoints", "Addresses and ports of the endpoints."), ageCol()},
		cells: func(o *corev1.Endpoints, now time.Time) ([]interface{}, error) {
			return []interface{}{o.Name, endpointsString(o), age(o.ObjectMeta, now)}, nil
		},
	})
	register("", "resourcequotas", typed[*corev1.ResourceQuota]{
		cols: []metav1.TableColumnDefinition{
			nameCol(), ageCol(),
			str("Request", "Used and hard quota for request resources."),
			str("Limit", "Used and hard quota for limit resources."),
		},
		cells: quotaCells,
	})
	register("", "limitranges", typed[*corev1.LimitRange]{
		cols: []metav1.TableColumnDefinition{nameCol(), col("Created At", "date", "Time the object was created.", 0)},
		cells: func(o *corev1.LimitRange, _ time.Time) ([]interface{}, error) {
			return []interface{}{o.Name, rfc3339(o.CreationTimestamp)}, nil
		},
	})
}

func rcCells(o *corev1.ReplicationController, now time.Time) ([]interface{}, error) {
	containers, images := podTemplateWide(templateSpec(o.Spec.Template))
	return []interface{}{
		o.Name, int64(replicasOr1(o.Spec.Replicas)), int64(o.Status.Replicas), int64(o.Status.ReadyReplicas),
		age(o.ObjectMeta, now), containers, images, mapSelector(o.Spec.Selector),
	}, nil
}

func templateSpec(t *corev1.PodTemplateSpec) corev1.PodSpec {
	if t == nil {
		return corev1.PodSpec{}
	}
	return t.Spec
}

// endpointsString lists up to three ip:port pairs; subsets without ports
// (headless services) list bare IPs.
func endpointsString(ep *corev1.Endpoints) string {
	if len(ep.Subsets) == 0 {
		return none
	}
	var list []string
	total := 0
	for _, ss := range ep.Subsets {
		if len(ss.Ports) == 0 {
			for _, a := range ss.Addresses {
				list = append(list, a.IP)
				total++
			}
			continue
		}
		for _, p := range ss.Ports {
			for _, a := range ss.Addresses {
				list = append(list, net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
				total++
			}
		}
	}
	return moreList(list, total, 3, none)
}

// quotaCells splits quota usage into the REQUEST and LIMIT columns, the
// latter holding the "limits.*" resources.
func quotaCells(o *corev1.ResourceQuota, now time.Time) ([]interface{}, error) {
	names := make([]string, 0, len(o.Status.Hard))
	for n := range o.Status.Hard {
		names = append(names, string(n))
	}
	sort.Strings(names)
	var req, lim []string
	for _, n := range names {
		used := o.Status.Used[corev1.ResourceName(n)]
		hard := o.Status.Hard[corev1.ResourceName(n)]
		entry := fmt.Sprintf("%s: %s/%s", n, used.String(), hard.String())
		if strings.HasPrefix(n, "limits.") {
			lim = append(lim, entry)
		} else {
			req = append(req, entry)
		}
	}
	return []interface{}{o.Name, age(o.ObjectMeta, now), strings.Join(req, ", "), strings.Join(lim, ", ")}, nil
}
