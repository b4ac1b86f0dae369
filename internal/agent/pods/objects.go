package pods

import (
	"context"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/navarch/navarch/internal/agent/probes"
)

// getter serves volumes and env from the informer caches.
type getter struct{ m *Manager }

func (g getter) ConfigMap(ns, name string) (*corev1.ConfigMap, error) {
	return g.m.cms.ConfigMaps(ns).Get(name)
}

func (g getter) Secret(ns, name string) (*corev1.Secret, error) {
	return g.m.secrets.Secrets(ns).Get(name)
}

// Token asks the API for a token bound to the pod (TokenRequest).
func (g getter) Token(pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection) (string, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: src.ExpirationSeconds,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	if src.Audience != "" {
		req.Spec.Audiences = []string{src.Audience}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr, err := g.m.cfg.Client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for service account %q: %w", sa, err)
	}
	return tr.Status.Token, nil
}

// references reports whether pod uses the configMap (or secret) name in a
// volume, env, envFrom or imagePullSecrets.
func references(pod *corev1.Pod, name string, secret bool) bool {
	for _, v := range pod.Spec.Volumes {
		switch {
		case !secret && v.ConfigMap != nil && v.ConfigMap.Name == name:
			return true
		case secret && v.Secret != nil && v.Secret.SecretName == name:
			return true
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				if (!secret && s.ConfigMap != nil && s.ConfigMap.Name == name) || (secret && s.Secret != nil && s.Secret.Name == name) {
					return true
				}
			}
		}
	}
	if secret {
		for _, s := range pod.Spec.ImagePullSecrets {
			if s.Name == name {
				return true
			}
		}
	}
	for _, c := range allContainers(pod) {
		for _, e := range c.EnvFrom {
			if (!secret && e.ConfigMapRef != nil && e.ConfigMapRef.Name == name) || (secret && e.SecretRef != nil && e.SecretRef.Name == name) {
				return true
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if (!secret && e.ValueFrom.ConfigMapKeyRef != nil && e.ValueFrom.ConfigMapKeyRef.Name == name) ||
				(secret && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == name) {
				return true
			}
		}
	}
	return false
}

// allContainers lists init then app containers.
func allContainers(pod *corev1.Pod) []*corev1.Container {
	out := make([]*corev1.Container, 0, len(pod.Spec.InitContainers)+len(pod.Spec.Containers))
	for i := range pod.Spec.InitContainers {
		out = append(out, &pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		out = append(out, &pod.Spec.Containers[i])
	}
	return out
}

// fieldPath is the event fieldPath of a container.
func fieldPath(pod *corev1.Pod, name string) string {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return "spec.initContainers{" + name + "}"
		}
	}
	return "spec.containers{" + name + "}"
}

// podRef is the object pod events are about; container events carry the
// container's fieldPath.
func podRef(pod *corev1.Pod, container string) *corev1.ObjectReference {
	ref := &corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name,
		UID: pod.UID, ResourceVersion: pod.ResourceVersion}
	if container != "" {
		ref.FieldPath = fieldPath(pod, container)
	}
	return ref
}

func (m *Manager) event(pod *corev1.Pod, container, eventType, reason, format string, args ...any) {
	m.cfg.Recorder.Eventf(podRef(pod, container), eventType, reason, format, args...)
}

// probeFailed records the kubelet's Unhealthy event.
func (m *Manager) probeFailed(pod *corev1.Pod, container string, kind probes.Kind, output string) {
	m.event(pod, container, corev1.EventTypeWarning, "Unhealthy", "%s probe failed: %s", kind, output)
}
