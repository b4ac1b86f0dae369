package printers

import (
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// wideWorkload returns the CONTAINERS, IMAGES and (optionally) SELECTOR
// wide columns every workload controller shows.
func wideWorkload(withSelector bool) []metav1.TableColumnDefinition {
	cols := []metav1.TableColumnDefinition{
		wide("Containers", "Names of the containers in the pod template."),
		wide("Images", "Images of the containers in the pod template."),
	}
	if withSelector {
		cols = append(cols, wide("Selector", "Label selector for the controlled pods."))
	}
	return cols
}

func init() {
	register("apps", "deployments", typed[*appsv1.Deployment]{
		cols: append([]metav1.TableColumnDefinition{
			nameCol(),
			str("Ready", "Ready replicas out of desired replicas."),
			num("Up-to-date", "Replicas updated to the latest pod template."),
			num("Available", "Replicas available to serve."),
			ageCol(),
		}, wideWorkload(true)...),
		cells: deploymentCells,
	})
	register("apps", "replicasets", typed[*appsv1.ReplicaSet]{
		cols: append([]metav1.TableColumnDefinition{
			nameCol(),
			num("Desired", "Number of desired replicas."),
			num("Current", "Number of replicas that currently exist."),
			num("Ready", "Number of replicas that are ready."),
			ageCol(),
		}, wideWorkload(true)...),
		cells: replicaSetCells,
	})
	register("apps", "statefulsets", typed[*appsv1.StatefulSet]{
		cols: append([]metav1.TableColumnDefinition{
			nameCol(),
			str("Ready", "Ready replicas out of desired replicas."),
			ageCol(),
		}, wideWorkload(false)...),
		cells: statefulSetCells,
	})
	register("apps", "daemonsets", typed[*appsv1.DaemonSet]{
		cols: append([]metav1.TableColumnDefinition{
			nameCol(),
			num("Desired", "Number of nodes that should run the daemon pod."),
			num("Current", "Number of nodes running the daemon pod."),
			num("Ready", "Number of nodes with a ready daemon pod."),
			num("Up-to-date", "Number of nodes running the latest pod template."),
			num("Available", "Number of nodes with an available daemon pod."),
			str("Node Selector", "Node selector of the pod template."),
			ageCol(),
		}, wideWorkload(true)...),
		cells: daemonSetCells,
	})
	register("apps", "controllerrevisions", typed[*appsv1.ControllerRevision]{
		cols: []metav1.TableColumnDefinition{
			nameCol(),
			str("Controller", "The controller that owns the revision."),
			num("Revision", "Revision number of the stored state."),
			ageCol(),
		},
		cells: controllerRevisionCells,
	})
}

func deploymentCells(o *appsv1.Deployment, now time.Time) ([]interface{}, error) {
	sel, err := selectorString(o.Spec.Selector)
	if err != nil {
		return nil, err
	}
	containers, images := podTemplateWide(o.Spec.Template.Spec)
	return []interface{}{
		o.Name, fmt.Sprintf("%d/%d", o.Status.ReadyReplicas, replicasOr1(o.Spec.Replicas)),
		int64(o.Status.UpdatedReplicas), int64(o.Status.AvailableReplicas), age(o.ObjectMeta, now),
		containers, images, sel,
	}, nil
}

func replicaSetCells(o *appsv1.ReplicaSet, now time.Time) ([]interface{}, error) {
	sel, err := selectorString(o.Spec.Selector)
	if err != nil {
		return nil, err
	}
	containers, images := podTemplateWide(o.Spec.Template.Spec)
	return []interface{}{
		o.Name, int64(replicasOr1(o.Spec.Replicas)), int64(o.Status.Replicas), int64(o.Status.ReadyReplicas),
		age(o.ObjectMeta, now), containers, images, sel,
	}, nil
}

func statefulSetCells(o *appsv1.StatefulSet, now time.Time) ([]interface{}, error) {
	containers, images := podTemplateWide(o.Spec.Template.Spec)
	return []interface{}{
		o.Name, fmt.Sprintf("%d/%d", o.Status.ReadyReplicas, replicasOr1(o.Spec.Replicas)),
		age(o.ObjectMeta, now), containers, images,
	}, nil
}

func daemonSetCells(o *appsv1.DaemonSet, now time.Time) ([]interface{}, error) {
	sel, err := selectorString(o.Spec.Selector)
	if err != nil {
		return nil, err
	}
	s := o.Status
	containers, images := podTemplateWide(o.Spec.Template.Spec)
	return []interface{}{
		o.Name, int64(s.DesiredNumberScheduled), int64(s.CurrentNumberScheduled), int64(s.NumberReady),
		int64(s.UpdatedNumberScheduled), int64(s.NumberAvailable), mapSelector(o.Spec.Template.Spec.NodeSelector),
		age(o.ObjectMeta, now), containers, images, sel,
	}, nil
}

// controllerRevisionCells names the owner as "kind.group/name", lower-cased
// like kubectl resource arguments.
func controllerRevisionCells(o *appsv1.ControllerRevision, now time.Time) ([]interface{}, error) {
	owner := none
	if ref := metav1.GetControllerOf(o); ref != nil {
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err != nil {
			return nil, fmt.Errorf("printers: controller revision %s owner: %w", o.Name, err)
		}
		owner = strings.ToLower(gv.WithKind(ref.Kind).GroupKind().String()) + "/" + ref.Name
	}
	return []interface{}{o.Name, owner, o.Revision, age(o.ObjectMeta, now)}, nil
}
