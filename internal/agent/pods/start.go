package pods

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/navarch/navarch/internal/agent/cri"
	"github.com/navarch/navarch/internal/agent/images"
)

// configRetry is how soon a container whose configuration could not be
// built is tried again (the informers also wake the worker when a missing
// configMap or secret appears).
const configRetry = 5 * time.Second

// start pulls, creates and starts a new instance of c.
func (r *round) start(ctx context.Context, c *corev1.Container, restartCount int32) time.Duration {
	w, pod := r.w, r.pod
	r.changed = true
	event := func(t, reason, msg string) { w.m.event(pod, c.Name, t, reason, "%s", msg) }
	ref, perr := w.m.puller.Ensure(ctx, string(pod.UID), c.Image, c.ImagePullPolicy, images.AuthsFor(c.Image, w.pullSecrets(pod)), r.sandboxCfg, event)
	if perr != nil {
		w.waiting[c.Name] = waitReason{perr.Reason, perr.Message}
		event(corev1.EventTypeWarning, "Failed", "Error: "+perr.Reason)
		switch {
		case perr.Reason == images.ErrImagePull:
			// Look again soon: the container then shows ImagePullBackOff
			// for the rest of the back-off, as upstream's does.
			return time.Second
		case perr.RetryAfter > 0:
			return perr.RetryAfter
		}
		return 10 * time.Second
	}
	cfg, err := r.containerConfig(ctx, c, ref, restartCount)
	if err != nil {
		w.waiting[c.Name] = waitReason{"CreateContainerConfigError", err.Error()}
		w.eventOnce(pod, c.Name, corev1.EventTypeWarning, "Failed", "Error: "+err.Error())
		return configRetry
	}
	release, err := w.m.gate.acquire(ctx, w.created)
	if err != nil {
		return runtimeRetry
	}
	resp, err := w.m.cfg.Runtime.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: r.sandbox.Id, Config: cfg, SandboxConfig: r.sandboxCfg})
	if err != nil {
		release()
		msg := grpcMessage(err)
		w.waiting[c.Name] = waitReason{"CreateContainerError", msg}
		event(corev1.EventTypeWarning, "Failed", "Error: "+msg)
		return configRetry
	}
	event(corev1.EventTypeNormal, "Created", "Created container "+c.Name)
	return r.startID(ctx, c, resp.ContainerId, release)
}

// startCreated starts a container that was created but never started.
func (r *round) startCreated(ctx context.Context, c *corev1.Container, rc *runtimeapi.Container) time.Duration {
	r.changed = true
	release, err := r.w.m.gate.acquire(ctx, r.w.created)
	if err != nil {
		return runtimeRetry
	}
	return r.startID(ctx, c, rc.Id, release)
}

// startID starts a created container, then gives the start slot back.
func (r *round) startID(ctx context.Context, c *corev1.Container, id string, release func()) time.Duration {
	w, pod := r.w, r.pod
	_, err := w.m.cfg.Runtime.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: id})
	release()
	if err != nil {
		// The runtime keeps the container as exited (StartError); the next
		// pass restarts it per restart policy, with back-off.
		delete(w.waiting, c.Name)
		w.m.event(pod, c.Name, corev1.EventTypeWarning, "Failed", "Error: %s", grpcMessage(err))
		return runtimeRetry
	}
	delete(w.waiting, c.Name)
	w.m.event(pod, c.Name, corev1.EventTypeNormal, "Started", "Started container %s", c.Name)
	if c.Lifecycle != nil && c.Lifecycle.PostStart != nil {
		host := ""
		if len(r.podIPs) > 0 {
			host = r.podIPs[0]
		}
		if err := w.runHook(ctx, c.Lifecycle.PostStart, id, host, c, podGrace(pod)); err != nil {
			w.m.event(pod, c.Name, corev1.EventTypeWarning, "FailedPostStartHook", "%s", hookMessage(c.Lifecycle.PostStart, c, pod, err))
			w.killOne(ctx, pod, &runtimeapi.Container{Id: id, Metadata: &runtimeapi.ContainerMetadata{Name: c.Name}}, podGrace(pod), "FailedPostStartHook")
		}
	}
	return 0
}

// pullSecrets fetches the pod's imagePullSecrets that exist.
func (w *worker) pullSecrets(pod *corev1.Pod) []*corev1.Secret {
	var out []*corev1.Secret
	var missing []string
	for _, ref := range pod.Spec.ImagePullSecrets {
		s, err := w.m.secrets.Secrets(pod.Namespace).Get(ref.Name)
		if err != nil {
			missing = append(missing, fmt.Sprintf("%q", ref.Name))
			continue
		}
		out = append(out, s)
	}
	if len(missing) > 0 {
		w.eventOnce(pod, "", corev1.EventTypeWarning, "FailedToRetrieveImagePullSecret",
			fmt.Sprintf("Unable to retrieve some image pull secrets (%s); attempting to pull the image may not succeed.", strings.Join(missing, ", ")))
	}
	return out
}

// containerConfig is the CRI description of a container instance.
func (r *round) containerConfig(ctx context.Context, c *corev1.Container, imageRef string, restartCount int32) (*runtimeapi.ContainerConfig, error) {
	pod := r.pod
	env, err := r.env(c)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for _, e := range env {
		vars[e.Key] = string(e.Value)
	}
	sec, err := r.w.containerSecurity(ctx, pod, c, imageRef)
	if err != nil {
		return nil, err
	}
	mounts, termHost, err := r.containerMounts(c, vars, restartCount)
	if err != nil {
		return nil, err
	}
	labels := podLabels(pod)
	labels[cri.LabelContainerName] = c.Name
	annotations := map[string]string{
		cri.AnnotationRestartCount:    strconv.Itoa(int(restartCount)),
		cri.AnnotationImage:           c.Image,
		cri.AnnotationTerminationPath: termHost,
		cri.AnnotationTerminationPol:  string(c.TerminationMessagePolicy),
		cri.AnnotationGracePeriod:     strconv.FormatInt(podGrace(pod), 10),
	}
	if isInit(pod, c.Name) {
		annotations[cri.AnnotationInit] = "true"
	}
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
		annotations[cri.AnnotationPreStop] = "true"
	}
	return &runtimeapi.ContainerConfig{
		Metadata:    &runtimeapi.ContainerMetadata{Name: c.Name, Attempt: uint32(restartCount)},
		Image:       &runtimeapi.ImageSpec{Image: imageRef, UserSpecifiedImage: c.Image},
		Command:     expandAll(c.Command, vars),
		Args:        expandAll(c.Args, vars),
		WorkingDir:  c.WorkingDir,
		Envs:        env,
		Mounts:      mounts,
		Labels:      labels,
		Annotations: annotations,
		LogPath:     filepath.Join(c.Name, fmt.Sprintf("%d.log", restartCount)),
		Stdin:       c.Stdin,
		StdinOnce:   c.StdinOnce,
		Tty:         c.TTY,
		Linux:       &runtimeapi.LinuxContainerConfig{Resources: r.w.m.resources(pod, c), SecurityContext: sec},
	}, nil
}

func isInit(pod *corev1.Pod, name string) bool {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// containerMounts turns volumeMounts into CRI mounts, adds the managed
// /etc/hosts and the termination-message file. It returns the host path
// of the latter.
func (r *round) containerMounts(c *corev1.Container, vars map[string]string, restartCount int32) ([]*runtimeapi.Mount, string, error) {
	pod := r.pod
	var out []*runtimeapi.Mount
	hasHosts := false
	for _, vm := range c.VolumeMounts {
		v, ok := r.mounts[vm.Name]
		if !ok {
			return nil, "", fmt.Errorf("cannot find volume %q to mount into container %q", vm.Name, c.Name)
		}
		host := v.HostPath
		sub := vm.SubPath
		if vm.SubPathExpr != "" {
			sub = expand(vm.SubPathExpr, vars)
		}
		if sub != "" {
			if filepath.IsAbs(sub) || strings.Contains("/"+sub+"/", "/../") {
				return nil, "", fmt.Errorf("invalid subpath %q in volume %q", sub, vm.Name)
			}
			host = filepath.Join(host, sub)
			if _, err := os.Stat(host); os.IsNotExist(err) {
				if err := os.MkdirAll(host, 0o755); err != nil {
					return nil, "", fmt.Errorf("failed to create subPath directory for volumeMount %q of container %q: %w", vm.Name, c.Name, err)
				}
			}
		}
		prop := runtimeapi.MountPropagation_PROPAGATION_PRIVATE
		if vm.MountPropagation != nil {
			switch *vm.MountPropagation {
			case corev1.MountPropagationHostToContainer:
				prop = runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER
			case corev1.MountPropagationBidirectional:
				prop = runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL
			}
		}
		if vm.MountPath == "/etc/hosts" {
			hasHosts = true
		}
		out = append(out, &runtimeapi.Mount{ContainerPath: vm.MountPath, HostPath: host, Readonly: vm.ReadOnly || v.ReadOnly, Propagation: prop})
	}
	if !hasHosts {
		hosts, err := r.w.hostsFile(pod, r.podIPs)
		if err != nil {
			return nil, "", fmt.Errorf("write /etc/hosts: %w", err)
		}
		out = append(out, &runtimeapi.Mount{ContainerPath: "/etc/hosts", HostPath: hosts})
	}
	termPath := c.TerminationMessagePath
	if termPath == "" {
		termPath = corev1.TerminationMessagePathDefault
	}
	termHost := filepath.Join(r.w.m.volumes.PodDir(pod.UID), "containers", c.Name, fmt.Sprintf("%d-termination-log", restartCount))
	if err := os.MkdirAll(filepath.Dir(termHost), 0o755); err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(termHost, nil, 0o666); err != nil {
		return nil, "", err
	}
	_ = os.Chmod(termHost, 0o666) // any container user may write its message
	out = append(out, &runtimeapi.Mount{ContainerPath: termPath, HostPath: termHost})
	return out, termHost, nil
}

// containerSecurity merges pod and container security contexts.
func (w *worker) containerSecurity(ctx context.Context, pod *corev1.Pod, c *corev1.Container, imageRef string) (*runtimeapi.LinuxContainerSecurityContext, error) {
	out := &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: namespaces(pod), SupplementalGroups: supplementalGroups(pod)}
	psc := pod.Spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	sc := c.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	user, group, nonRoot := psc.RunAsUser, psc.RunAsGroup, psc.RunAsNonRoot
	if sc.RunAsUser != nil {
		user = sc.RunAsUser
	}
	if sc.RunAsGroup != nil {
		group = sc.RunAsGroup
	}
	if sc.RunAsNonRoot != nil {
		nonRoot = sc.RunAsNonRoot
	}
	if user != nil {
		out.RunAsUser = &runtimeapi.Int64Value{Value: *user}
	}
	if group != nil {
		out.RunAsGroup = &runtimeapi.Int64Value{Value: *group}
	}
	if nonRoot != nil && *nonRoot {
		if err := w.verifyNonRoot(ctx, pod, c, user, imageRef); err != nil {
			return nil, err
		}
	}
	out.Privileged = sc.Privileged != nil && *sc.Privileged
	out.ReadonlyRootfs = sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
	out.NoNewPrivs = sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation
	if caps := sc.Capabilities; caps != nil {
		out.Capabilities = &runtimeapi.Capability{}
		for _, a := range caps.Add {
			out.Capabilities.AddCapabilities = append(out.Capabilities.AddCapabilities, string(a))
		}
		for _, d := range caps.Drop {
			out.Capabilities.DropCapabilities = append(out.Capabilities.DropCapabilities, string(d))
		}
	}
	if !out.Privileged && (sc.ProcMount == nil || *sc.ProcMount != corev1.UnmaskedProcMount) {
		out.MaskedPaths = defaultMaskedPaths
		out.ReadonlyPaths = defaultReadonlyPaths
	}
	seccomp := psc.SeccompProfile
	if sc.SeccompProfile != nil {
		seccomp = sc.SeccompProfile
	}
	out.Seccomp = &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}
	if seccomp != nil && seccomp.Type == corev1.SeccompProfileTypeRuntimeDefault {
		out.Seccomp.ProfileType = runtimeapi.SecurityProfile_RuntimeDefault
	}
	return out, nil
}

// The paths the kubelet masks and makes read-only in unprivileged
// containers.
var (
	defaultMaskedPaths = []string{"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"}
	defaultReadonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

// verifyNonRoot enforces runAsNonRoot with the image's user when the pod
// names none, with the kubelet's messages.
func (w *worker) verifyNonRoot(ctx context.Context, pod *corev1.Pod, c *corev1.Container, user *int64, imageRef string) error {
	if user != nil {
		if *user == 0 {
			return fmt.Errorf("container's runAsUser breaks non-root policy (pod: %q, container: %s)", podDesc(pod), c.Name)
		}
		return nil
	}
	st, err := w.m.cfg.Images.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: imageRef}})
	if err != nil || st.Image == nil {
		return fmt.Errorf("failed to inspect image %q: %v", c.Image, err)
	}
	if st.Image.Uid == nil {
		if st.Image.Username != "" {
			return fmt.Errorf("container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root (pod: %q, container: %s)", st.Image.Username, podDesc(pod), c.Name)
		}
		return fmt.Errorf("container has runAsNonRoot and image will run as root (pod: %q, container: %s)", podDesc(pod), c.Name)
	}
	if st.Image.Uid.Value == 0 {
		return fmt.Errorf("container has runAsNonRoot and image will run as root (pod: %q, container: %s)", podDesc(pod), c.Name)
	}
	return nil
}

// notFound says whether err is an informer miss.
func notFound(err error) bool { return apierrors.IsNotFound(err) }
