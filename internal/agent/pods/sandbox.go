package pods

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/navarch/navarch/internal/agent/cri"
	"github.com/navarch/navarch/internal/agent/fieldpath"
	navdns "github.com/navarch/navarch/internal/dns"
)

// network holds back pods that need pod networking until it is set up.
func (r *round) network() (time.Duration, bool) {
	if r.pod.Spec.HostNetwork || r.w.m.cfg.NetworkReady == nil || r.w.m.cfg.NetworkReady() {
		return 0, true
	}
	r.w.eventOnce(r.pod, "", corev1.EventTypeWarning, "NetworkNotReady",
		"network is not ready: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized")
	return time.Second, false
}

// eventOnce records an event unless the same one was recorded in the last
// minute: steps that fail on every sync must not flood the API.
func (w *worker) eventOnce(pod *corev1.Pod, container, eventType, reason, msg string) {
	key := container + "\x00" + reason + "\x00" + msg
	if t, ok := w.eventsSeen[key]; ok && time.Since(t) < time.Minute {
		return
	}
	w.eventsSeen[key] = time.Now()
	w.m.event(pod, container, eventType, reason, "%s", msg)
}

func (r *round) fieldStatus() fieldpath.Status {
	ip := r.w.m.cfg.NodeIP.String()
	st := fieldpath.Status{HostIP: ip, HostIPs: []string{ip}, NodeName: r.w.m.cfg.NodeName, PodIPs: r.podIPs}
	if len(r.podIPs) > 0 {
		st.PodIP = r.podIPs[0]
	}
	return st
}

// setupVolumes prepares (or refreshes) the pod's volumes.
func (r *round) setupVolumes() (time.Duration, bool) {
	mounts, err := r.w.m.volumes.Setup(r.pod, r.fieldStatus())
	if err != nil {
		r.w.eventOnce(r.pod, "", corev1.EventTypeWarning, "FailedMount", err.Error())
		return 2 * time.Second, false
	}
	r.mounts = mounts
	return 0, true
}

// ensureSandbox finds the pod's ready sandbox or creates one. A sandbox
// that died takes its containers with it: they are stopped and the pod
// starts over in a new sandbox, as upstream does.
func (r *round) ensureSandbox(ctx context.Context) (time.Duration, bool) {
	w := r.w
	r.sandboxCfg = w.sandboxConfig(r.pod, attemptOf(r.state.Latest()))
	if sb := r.state.Latest(); sb != nil && sb.State == runtimeapi.PodSandboxState_SANDBOX_READY {
		ips, err := w.sandboxIP(ctx, sb.Id)
		if err != nil {
			return runtimeRetry, false
		}
		r.sandbox, r.podIPs, r.sandboxReady = sb, ips, true
		return 0, true
	}
	if old := r.state.Latest(); old != nil {
		w.m.event(r.pod, "", corev1.EventTypeNormal, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
		w.killContainers(ctx, r.pod, r.state, 0, "")
		if _, err := w.m.cfg.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: old.Id}); err != nil && !cri.IsNotFound(err) {
			return runtimeRetry, false
		}
	}
	attempt := uint32(0)
	if old := r.state.Latest(); old != nil {
		attempt = old.Metadata.GetAttempt() + 1
	}
	r.sandboxCfg = w.sandboxConfig(r.pod, attempt)
	if err := os.MkdirAll(r.sandboxCfg.LogDirectory, 0o755); err != nil {
		w.eventOnce(r.pod, "", corev1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: "+err.Error())
		return 2 * time.Second, false
	}
	release, err := w.m.gate.acquire(ctx, w.created)
	if err != nil {
		return runtimeRetry, false
	}
	resp, err := w.m.cfg.Runtime.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: r.sandboxCfg})
	release()
	if err != nil {
		msg := "Failed to create pod sandbox: " + grpcMessage(err)
		w.m.event(r.pod, "", corev1.EventTypeWarning, "FailedCreatePodSandBox", "%s", msg)
		w.waitAll(r.pod, "ContainerCreating", "")
		return 2 * time.Second, false
	}
	ips, err := w.sandboxIP(ctx, resp.PodSandboxId)
	if err != nil {
		return runtimeRetry, false
	}
	r.sandbox = &runtimeapi.PodSandbox{Id: resp.PodSandboxId, Metadata: r.sandboxCfg.Metadata, State: runtimeapi.PodSandboxState_SANDBOX_READY}
	r.podIPs, r.sandboxReady = ips, true
	// Containers of older sandboxes are history now; the new sandbox
	// starts the pod over.
	r.state = &cri.PodState{Sandboxes: append([]*runtimeapi.PodSandbox{r.sandbox}, r.state.Sandboxes...), Containers: r.state.Containers}
	return 0, true
}

func attemptOf(sb *runtimeapi.PodSandbox) uint32 {
	if sb == nil {
		return 0
	}
	return sb.Metadata.GetAttempt()
}

func grpcMessage(err error) string {
	if s, ok := status.FromError(err); ok {
		return s.Message()
	}
	return err.Error()
}

// sandboxIP returns the sandbox's pod IPs (the node's for hostNetwork).
func (w *worker) sandboxIP(ctx context.Context, id string) ([]string, error) {
	if ips, ok := w.sandboxIPs[id]; ok {
		return ips, nil
	}
	st, err := w.m.cfg.Runtime.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id})
	if err != nil {
		return nil, err
	}
	var ips []string
	if n := st.Status.GetNetwork(); n != nil && n.Ip != "" {
		ips = append(ips, n.Ip)
		for _, a := range n.AdditionalIps {
			ips = append(ips, a.Ip)
		}
	}
	if st.Status.GetLinux().GetNamespaces().GetOptions().GetNetwork() == runtimeapi.NamespaceMode_NODE {
		ips = []string{w.m.cfg.NodeIP.String()}
	}
	w.sandboxIPs[id] = ips
	return ips, nil
}

// sandboxConfig is the CRI description of the pod's sandbox.
func (w *worker) sandboxConfig(pod *corev1.Pod, attempt uint32) *runtimeapi.PodSandboxConfig {
	m := w.m
	labels := map[string]string{}
	for k, v := range pod.Labels {
		labels[k] = v
	}
	for k, v := range podLabels(pod) {
		labels[k] = v
	}
	annotations := map[string]string{}
	for k, v := range pod.Annotations {
		annotations[k] = v
	}
	cfg := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: pod.Name, Namespace: pod.Namespace, Uid: string(pod.UID), Attempt: attempt},
		Hostname:     podHostname(pod),
		LogDirectory: filepath.Join(m.logsDir(), fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID)),
		DnsConfig:    w.dnsConfig(pod),
		PortMappings: portMappings(pod),
		Labels:       labels,
		Annotations:  annotations,
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			CgroupParent:    m.cgroupParent(pod),
			SecurityContext: sandboxSecurity(pod),
			Sysctls:         sysctls(pod),
		},
	}
	if pod.Spec.HostNetwork {
		cfg.Hostname = ""
	}
	return cfg
}

// podLabels are the labels that tie runtime objects to their pod.
func podLabels(pod *corev1.Pod) map[string]string {
	return map[string]string{
		cri.LabelPodName: pod.Name, cri.LabelPodNamespace: pod.Namespace, cri.LabelPodUID: string(pod.UID),
		cri.LabelManagedBy: cri.ManagedByValue,
	}
}

func podHostname(pod *corev1.Pod) string {
	h := pod.Name
	if pod.Spec.Hostname != "" {
		h = pod.Spec.Hostname
	}
	if len(h) > 63 {
		h = strings.TrimRight(h[:63], "-.")
	}
	return h
}

func portMappings(pod *corev1.Pod) []*runtimeapi.PortMapping {
	var out []*runtimeapi.PortMapping
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort == 0 {
				continue
			}
			proto := runtimeapi.Protocol_TCP
			switch p.Protocol {
			case corev1.ProtocolUDP:
				proto = runtimeapi.Protocol_UDP
			case corev1.ProtocolSCTP:
				proto = runtimeapi.Protocol_SCTP
			}
			out = append(out, &runtimeapi.PortMapping{Protocol: proto, ContainerPort: p.ContainerPort, HostPort: p.HostPort, HostIp: p.HostIP})
		}
	}
	return out
}

func namespaces(pod *corev1.Pod) *runtimeapi.NamespaceOption {
	ns := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD}
	if pod.Spec.HostNetwork {
		ns.Network = runtimeapi.NamespaceMode_NODE
	}
	if pod.Spec.HostIPC {
		ns.Ipc = runtimeapi.NamespaceMode_NODE
	}
	switch {
	case pod.Spec.HostPID:
		ns.Pid = runtimeapi.NamespaceMode_NODE
	case pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace:
		ns.Pid = runtimeapi.NamespaceMode_POD
	}
	return ns
}

func sandboxSecurity(pod *corev1.Pod) *runtimeapi.LinuxSandboxSecurityContext {
	sc := &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: namespaces(pod)}
	for _, c := range allContainers(pod) {
		if c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
			sc.Privileged = true
		}
	}
	if psc := pod.Spec.SecurityContext; psc != nil {
		if psc.RunAsUser != nil {
			sc.RunAsUser = &runtimeapi.Int64Value{Value: *psc.RunAsUser}
		}
		if psc.RunAsGroup != nil {
			sc.RunAsGroup = &runtimeapi.Int64Value{Value: *psc.RunAsGroup}
		}
		sc.SupplementalGroups = supplementalGroups(pod)
	}
	return sc
}

func supplementalGroups(pod *corev1.Pod) []int64 {
	psc := pod.Spec.SecurityContext
	if psc == nil {
		return nil
	}
	groups := append([]int64(nil), psc.SupplementalGroups...)
	if psc.FSGroup != nil {
		groups = append(groups, *psc.FSGroup)
	}
	return groups
}

func sysctls(pod *corev1.Pod) map[string]string {
	if pod.Spec.SecurityContext == nil || len(pod.Spec.SecurityContext.Sysctls) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, s := range pod.Spec.SecurityContext.Sysctls {
		out[s.Name] = s.Value
	}
	return out
}

// dnsConfig follows dnsPolicy (internal/dns has the rules). Without
// cluster DNS configured, ClusterFirst falls back to the node's
// resolv.conf, with upstream's warning event.
func (w *worker) dnsConfig(pod *corev1.Pod) *runtimeapi.DNSConfig {
	host, _ := navdns.ReadResolvConf("/etc/resolv.conf")
	rc, ok, warning := navdns.PodDNS(pod, w.m.cfg.ClusterDNS, w.m.cfg.ClusterDomain, host)
	if warning != "" {
		w.eventOnce(pod, "", corev1.EventTypeWarning, "MissingClusterDNS", warning)
	}
	if !ok {
		return nil
	}
	return &runtimeapi.DNSConfig{Servers: rc.Nameservers, Searches: rc.Searches, Options: rc.Options}
}

// hostsFile writes the kubelet-managed /etc/hosts of the pod.
func (w *worker) hostsFile(pod *corev1.Pod, ips []string) (string, error) {
	path := filepath.Join(w.m.volumes.PodDir(pod.UID), "etc-hosts")
	var b strings.Builder
	if pod.Spec.HostNetwork {
		host, err := os.ReadFile("/etc/hosts")
		if err != nil {
			return "", err
		}
		b.WriteString("# Kubernetes-managed hosts file (host network).\n")
		b.Write(host)
	} else {
		b.WriteString("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
			"fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")
		name := podHostname(pod)
		for _, ip := range ips {
			if pod.Spec.Subdomain != "" {
				fmt.Fprintf(&b, "%s\t%s.%s.%s.svc.%s\t%s\n", ip, name, pod.Spec.Subdomain, pod.Namespace, w.m.cfg.ClusterDomain, name)
			} else {
				fmt.Fprintf(&b, "%s\t%s\n", ip, name)
			}
		}
	}
	if len(pod.Spec.HostAliases) > 0 {
		b.WriteString("\n# Entries added by HostAliases.\n")
		for _, a := range pod.Spec.HostAliases {
			fmt.Fprintf(&b, "%s\t%s\n", a.IP, strings.Join(a.Hostnames, "\t"))
		}
	}
	if old, err := os.ReadFile(path); err == nil && string(old) == b.String() {
		return path, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}
