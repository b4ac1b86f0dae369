package podcontrol

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"
)

// Event reasons, as upstream's controllers record them.
const (
	ReasonSuccessfulCreate = "SuccessfulCreate"
	ReasonFailedCreate     = "FailedCreate"
	ReasonSuccessfulDelete = "SuccessfulDelete"
	ReasonFailedDelete     = "FailedDelete"
)

// Owner is a controller object: its metadata names the pods' owner and
// events are recorded against it. Typed objects from informers qualify
// (their kind is found through the client-go scheme).
type Owner interface {
	metav1.Object
	runtime.Object
}

// Control creates and deletes pods on behalf of controllers and records the
// events users look for in `kubectl describe`.
type Control struct {
	Client   kubernetes.Interface
	Recorder record.EventRecorder
}

// NewPod builds the pod a controller creates from template: the template's
// labels, annotations, finalizers and spec (deep-copied), generateName
// "<owner>-" and, when ref is non-nil, ref as an ownerReference. Callers may
// adjust the result (a StatefulSet sets Name, a DaemonSet node affinity).
func NewPod(template *corev1.PodTemplateSpec, owner metav1.Object, ref *metav1.OwnerReference) *corev1.Pod {
	t := template.DeepCopy()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:    owner.GetNamespace(),
			GenerateName: podPrefix(owner.GetName()),
			Labels:       maps.Clone(t.Labels),
			Annotations:  maps.Clone(t.Annotations),
			Finalizers:   slices.Clone(t.Finalizers),
		},
		Spec: t.Spec,
	}
	if ref != nil {
		pod.OwnerReferences = append(pod.OwnerReferences, *ref)
	}
	return pod
}

// podPrefix is "<name>-", or the bare name when the dash would make an
// invalid generateName (the server truncates long prefixes itself).
func podPrefix(name string) string {
	prefix := name + "-"
	if len(apivalidation.NameIsDNSSubdomain(prefix, true)) != 0 {
		return name
	}
	return prefix
}

// ControllerRef is the ownerReference a controller puts on what it
// creates: controller=true and blockOwnerDeletion=true, so foreground
// deletion of the owner waits for its pods.
func ControllerRef(owner metav1.Object, gvk schema.GroupVersionKind) *metav1.OwnerReference {
	return metav1.NewControllerRef(owner, gvk)
}

// Create creates pod in its namespace and records SuccessfulCreate (or
// FailedCreate) on owner. A pod without labels is refused: its owner could
// never select it again.
func (c *Control) Create(ctx context.Context, pod *corev1.Pod, owner Owner) (*corev1.Pod, error) {
	if len(pod.Labels) == 0 {
		return nil, errors.New("unable to create pods, no labels")
	}
	if pod.Namespace == "" {
		pod.Namespace = owner.GetNamespace()
	}
	out, err := c.Client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		// A terminating namespace refuses every create; that is the
		// namespace controller's business, not worth a warning per pod.
		if !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			c.Recorder.Eventf(owner, corev1.EventTypeWarning, ReasonFailedCreate, "Error creating: %v", err)
		}
		return nil, fmt.Errorf("create pod for %s/%s: %w", owner.GetNamespace(), owner.GetName(), err)
	}
	c.Recorder.Eventf(owner, corev1.EventTypeNormal, ReasonSuccessfulCreate, "Created pod: %v", out.Name)
	return out, nil
}

// CreateFromTemplate is Create(NewPod(template, owner, ref)).
func (c *Control) CreateFromTemplate(ctx context.Context, template *corev1.PodTemplateSpec, owner Owner, ref *metav1.OwnerReference) (*corev1.Pod, error) {
	return c.Create(ctx, NewPod(template, owner, ref), owner)
}

// Delete deletes pod, with its UID as a precondition so that a newer pod of
// the same name is never hit, and records SuccessfulDelete (or
// FailedDelete) on owner. A pod already gone returns an error for which
// apierrors.IsNotFound holds and records nothing: callers treat it as done.
func (c *Control) Delete(ctx context.Context, pod *corev1.Pod, owner Owner) error {
	opts := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pod.UID}}
	if pod.UID == "" {
		opts.Preconditions = nil
	}
	err := c.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, opts)
	switch {
	case err == nil:
		c.Recorder.Eventf(owner, corev1.EventTypeNormal, ReasonSuccessfulDelete, "Deleted pod: %v", pod.Name)
		return nil
	case apierrors.IsNotFound(err):
		return err
	case apierrors.IsConflict(err) && pod.UID != "":
		// The UID precondition failed: the pod we meant is gone and the
		// name belongs to a newer one.
		return apierrors.NewNotFound(corev1.Resource("pods"), pod.Name)
	default:
		c.Recorder.Eventf(owner, corev1.EventTypeWarning, ReasonFailedDelete, "Error deleting: %v", err)
		return fmt.Errorf("delete pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
}
