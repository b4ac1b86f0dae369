package apiserver

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry/store"
)

// podConnect serves the pod subresources that the node agent answers:
// log (GET), and exec, attach and portforward (GET or POST, upgraded to a
// stream). It locates the pod's node and proxies; the agent speaks the
// streaming protocols end to end with the client.
func (s *Server) podConnect(w http.ResponseWriter, r *http.Request, ri requestInfo, st store.Interface) {
	switch {
	case ri.sub == "log" && r.Method != http.MethodGet:
		methodNotAllowed(w, r, ri)
		return
	case ri.sub != "log" && r.Method != http.MethodGet && r.Method != http.MethodPost:
		methodNotAllowed(w, r, ri)
		return
	}
	obj, err := st.Get(r.Context(), ri.namespace, ri.name, store.GetOptions{})
	if err != nil {
		writeError(w, r, err)
		return
	}
	pod := obj.(*corev1.Pod)
	q := r.URL.Query()
	if ri.sub == "log" {
		s.podLog(w, r, pod, q)
		return
	}
	path, err := streamPath(pod, ri.sub, q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	target, err := s.kubeletURL(r.Context(), pod.Spec.NodeName, path, agentQuery(q))
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.proxyUpgrade(w, r, target)
}

// streamPath validates an exec, attach or portforward request against the
// pod and returns the agent's path for it.
func streamPath(pod *corev1.Pod, sub string, q url.Values) (string, error) {
	var container string
	if sub != "portforward" {
		c, err := podContainer(pod, q.Get("container"))
		if err != nil {
			return "", err
		}
		container = c
	}
	if pod.Spec.NodeName == "" {
		return "", apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod.Name))
	}
	if sub == "portforward" {
		return "/portForward/" + pod.Namespace + "/" + pod.Name, nil
	}
	return "/" + sub + "/" + pod.Namespace + "/" + pod.Name + "/" + container, nil
}

// agentQuery is the client's query without what the path now says or
// what is for the API server alone.
func agentQuery(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		if k != "container" && k != "insecureSkipTLSVerifyBackend" {
			out[k] = v
		}
	}
	return out
}

// podContainer resolves the container a request names: any container of
// the pod (app, init or ephemeral), or the only app container when none
// is named.
func podContainer(pod *corev1.Pod, name string) (string, error) {
	if name == "" {
		switch len(pod.Spec.Containers) {
		case 1:
			return pod.Spec.Containers[0].Name, nil
		case 0:
			return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s", pod.Name))
		}
		msg := fmt.Sprintf("a container name must be specified for pod %s, choose one of: [%s]", pod.Name, containerNames(pod.Spec.Containers))
		if len(pod.Spec.InitContainers) > 0 {
			msg += fmt.Sprintf(" or one of the init containers: [%s]", containerNames(pod.Spec.InitContainers))
		}
		return "", apierrors.NewBadRequest(msg)
	}
	has := func(c corev1.Container) bool { return c.Name == name }
	if slices.ContainsFunc(pod.Spec.Containers, has) || slices.ContainsFunc(pod.Spec.InitContainers, has) ||
		slices.ContainsFunc(pod.Spec.EphemeralContainers, func(c corev1.EphemeralContainer) bool { return c.Name == name }) {
		return name, nil
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
}

func containerNames(cs []corev1.Container) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, " ")
}

// podLog validates PodLogOptions as upstream does, then streams the
// agent's answer. A pod not yet on a node has no log: an empty answer.
func (s *Server) podLog(w http.ResponseWriter, r *http.Request, pod *corev1.Pod, q url.Values) {
	if err := validateLogOptions(pod.Name, q); err != nil {
		writeError(w, r, err)
		return
	}
	container, err := podContainer(pod, q.Get("container"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	if pod.Spec.NodeName == "" {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusOK)
		return
	}
	target, err := s.kubeletURL(r.Context(), pod.Spec.NodeName,
		"/containerLogs/"+pod.Namespace+"/"+pod.Name+"/"+container, agentQuery(q))
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.proxyLog(w, r, target)
}

var podLogOptionsKind = schema.GroupKind{Kind: "PodLogOptions"}

// validateLogOptions: unparseable values are a 400, out-of-range ones a
// 422 naming the field, as upstream's PodLogOptions validation says.
func validateLogOptions(name string, q url.Values) error {
	var errs field.ErrorList
	ints := map[string]int64{}
	for _, p := range []string{"tailLines", "limitBytes", "sinceSeconds"} {
		if v := q.Get(p); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return apierrors.NewBadRequest(fmt.Sprintf("%s: invalid value %q: %v", p, v, err))
			}
			ints[p] = n
		}
	}
	for _, p := range []string{"follow", "previous", "timestamps", "insecureSkipTLSVerifyBackend"} {
		if v := q.Get(p); v != "" {
			if _, err := strconv.ParseBool(v); err != nil {
				return apierrors.NewBadRequest(fmt.Sprintf("%s: invalid value %q: %v", p, v, err))
			}
		}
	}
	if v := q.Get("sinceTime"); v != "" {
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("sinceTime: invalid value %q: %v", v, err))
		}
	}
	if n, ok := ints["tailLines"]; ok && n < 0 {
		errs = append(errs, field.Invalid(field.NewPath("tailLines"), n, "must be greater than or equal to 0"))
	}
	if n, ok := ints["limitBytes"]; ok && n < 1 {
		errs = append(errs, field.Invalid(field.NewPath("limitBytes"), n, "must be greater than 0"))
	}
	_, hasSince := ints["sinceSeconds"]
	if hasSince && q.Get("sinceTime") != "" {
		errs = append(errs, field.Forbidden(field.NewPath(""), "at most one of `sinceTime` or `sinceSeconds` may be specified"))
	} else if n := ints["sinceSeconds"]; hasSince && n < 1 {
		errs = append(errs, field.Invalid(field.NewPath("sinceSeconds"), n, "must be greater than 0"))
	}
	switch v := q.Get("stream"); v {
	case "", corev1.LogStreamStdout, corev1.LogStreamStderr, corev1.LogStreamAll:
	default:
		errs = append(errs, field.NotSupported(field.NewPath("stream"), v, []string{corev1.LogStreamStdout, corev1.LogStreamStderr, corev1.LogStreamAll}))
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(podLogOptionsKind, name, errs)
	}
	return nil
}

func isPodConnect(sub string) bool {
	return sub == "log" || sub == "exec" || sub == "attach" || sub == "portforward"
}
