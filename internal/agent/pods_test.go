package agent_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// TestPods runs the pod lifecycle scenarios on one agent, in parallel.
func TestPods(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	t.Run("web", func(t *testing.T) { t.Parallel(); testWeb(t, c) })
	t.Run("shared volume and localhost", func(t *testing.T) { t.Parallel(); testSharing(t, c) })
	t.Run("init containers", func(t *testing.T) { t.Parallel(); testInit(t, c) })
	t.Run("env", func(t *testing.T) { t.Parallel(); testEnv(t, c) })
	t.Run("volumes", func(t *testing.T) { t.Parallel(); testVolumes(t, c) })
	t.Run("security context", func(t *testing.T) { t.Parallel(); testSecurity(t, c) })
	t.Run("resources", func(t *testing.T) { t.Parallel(); testResources(t, c) })
	t.Run("restart policies", func(t *testing.T) { t.Parallel(); testRestartPolicies(t, c) })
	t.Run("host network", func(t *testing.T) { t.Parallel(); testHostNetwork(t, c) })
	t.Run("probes", func(t *testing.T) { t.Parallel(); testProbes(t, c) })
	t.Run("crash loop", func(t *testing.T) { t.Parallel(); testCrashLoop(t, c) })
	t.Run("bad input", func(t *testing.T) { t.Parallel(); testBadInput(t, c) })
	t.Run("termination", func(t *testing.T) { t.Parallel(); testTermination(t, c) })
}

func httpGet(url string) (string, error) {
	hc := &http.Client{Timeout: 2 * time.Second}
	resp, err := hc.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(b), nil
}

func testWeb(t *testing.T, c *cluster) {
	ns := c.namespace("web")
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "web", Command: []string{"httpd", "-f", "-p", "8080"}}}}})
	p := c.waitPod(t, ns, "web", 30*time.Second, "Running", running)
	if p.Status.PodIP == "" || p.Status.HostIP == "" || p.Status.StartTime == nil {
		t.Fatalf("podIP %q hostIP %q startTime %v", p.Status.PodIP, p.Status.HostIP, p.Status.StartTime)
	}
	cs := p.Status.ContainerStatuses[0]
	if !strings.HasPrefix(cs.ContainerID, "containerd://") || cs.ImageID == "" || cs.State.Running == nil || !cs.Ready || !*cs.Started {
		t.Errorf("container status %+v", cs)
	}
	for _, want := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady, corev1.PodReadyToStartContainers} {
		found := false
		for _, cond := range p.Status.Conditions {
			found = found || cond.Type == want && cond.Status == corev1.ConditionTrue
		}
		if !found {
			t.Errorf("condition %s not True: %+v", want, p.Status.Conditions)
		}
	}
	var body string
	waitFor(t, 10*time.Second, "httpd answers on the pod IP", func() (err error) {
		body, err = httpGet(fmt.Sprintf("http://%s:8080/etc/hostname", p.Status.PodIP))
		return err
	})
	if strings.TrimSpace(body) != "web" {
		t.Errorf("hostname served by the pod = %q, want web", body)
	}
	hosts, _ := httpGet(fmt.Sprintf("http://%s:8080/etc/hosts", p.Status.PodIP))
	if !strings.Contains(hosts, p.Status.PodIP+"\tweb") {
		t.Errorf("/etc/hosts lacks the pod's entry:\n%s", hosts)
	}
	c.expectEvent(t, ns, "web", "Started", "Started container web")
}

// testSharing: two containers share an emptyDir and the network
// namespace; the second fetches from the first over localhost.
func testSharing(t *testing.T, c *cluster) {
	ns := c.namespace("sharing")
	shared := []corev1.VolumeMount{{Name: "shared", MountPath: "/shared"}}
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pair"}, Spec: corev1.PodSpec{
		Volumes: []corev1.Volume{{Name: "shared", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		Containers: []corev1.Container{
			{Name: "server", VolumeMounts: shared, Command: sh("echo hello-from-server > /shared/hello && exec httpd -f -p 8080 -h /shared")},
			{Name: "client", VolumeMounts: shared, Command: sh("until wget -q -O /shared/fetched http://localhost:8080/hello; do sleep 0.1; done; exec sleep 3600")},
		}}})
	p := c.waitPod(t, ns, "pair", 30*time.Second, "Running", running)
	var body string
	waitFor(t, 10*time.Second, "the client's copy, served by the server", func() (err error) {
		body, err = httpGet(fmt.Sprintf("http://%s:8080/fetched", p.Status.PodIP))
		return err
	})
	if strings.TrimSpace(body) != "hello-from-server" {
		t.Errorf("fetched = %q", body)
	}
}

func testInit(t *testing.T, c *cluster) {
	ns := c.namespace("init")
	work := []corev1.VolumeMount{{Name: "work", MountPath: "/work"}}
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "init"}, Spec: corev1.PodSpec{
		Volumes: []corev1.Volume{{Name: "work", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		InitContainers: []corev1.Container{
			{Name: "first", VolumeMounts: work, Command: sh("sleep 0.3; echo -n 1 >> /work/order")},
			{Name: "second", VolumeMounts: work, Command: sh("test -f /work/order && echo -n 2 >> /work/order")},
		},
		Containers: []corev1.Container{{Name: "main", VolumeMounts: work, Command: sh("echo -n 3 >> /work/order; exec httpd -f -p 8080 -h /work")}},
	}})
	p := c.waitPod(t, ns, "init", 30*time.Second, "Running", running)
	for _, cs := range p.Status.InitContainerStatuses {
		if cs.State.Terminated == nil || cs.State.Terminated.Reason != "Completed" || cs.State.Terminated.ExitCode != 0 {
			t.Errorf("init container %s: %+v", cs.Name, cs.State)
		}
	}
	var order string
	waitFor(t, 10*time.Second, "order file", func() (err error) {
		order, err = httpGet(fmt.Sprintf("http://%s:8080/order", p.Status.PodIP))
		return err
	})
	if order != "123" {
		t.Errorf("containers ran in order %q, want 123", order)
	}

	// A failing init container blocks the app containers and restarts.
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "init-fails"}, Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "fail", Command: sh("exit 3")}},
		Containers:     []corev1.Container{{Name: "main", Command: sh("sleep 3600")}},
	}})
	p = c.waitPod(t, ns, "init-fails", 30*time.Second, "init restarted", func(p *corev1.Pod) bool {
		return len(p.Status.InitContainerStatuses) == 1 && p.Status.InitContainerStatuses[0].RestartCount >= 1
	})
	if p.Status.Phase != corev1.PodPending || p.Status.ContainerStatuses[0].State.Waiting == nil ||
		p.Status.ContainerStatuses[0].State.Waiting.Reason != "PodInitializing" {
		t.Errorf("with a failing init container: phase %s, %s", p.Status.Phase, brief(p))
	}
}

// completed waits for a pod to finish and returns it.
func (c *cluster) completed(t *testing.T, ns, name string) *corev1.Pod {
	t.Helper()
	return c.waitPod(t, ns, name, 30*time.Second, "finished", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
	})
}

// message is a container's termination message.
func message(t *testing.T, p *corev1.Pod, container string) string {
	t.Helper()
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == container && cs.State.Terminated != nil {
			return cs.State.Terminated.Message
		}
	}
	t.Fatalf("container %s not terminated: %s", container, brief(p))
	return ""
}

func testEnv(t *testing.T, c *cluster) {
	ns := c.namespace("env")
	ctx := context.Background()
	if _, err := c.client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg"},
		Data: map[string]string{"color": "blue", "size": "XL"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sec"},
		Data: map[string][]byte{"password": []byte("s3cret")}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "env", Labels: map[string]string{"app": "env"}}, Spec: corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		Containers: []corev1.Container{{
			Name: "env", Command: sh("env | sort > /dev/termination-log; echo \"args:$0:$1\" >> /dev/termination-log"), Args: []string{"$(COLOR)-x", "$$(COLOR)"},
			WorkingDir: "/tmp",
			Env: []corev1.EnvVar{
				{Name: "COLOR", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "color"}}},
				{Name: "PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "password"}}},
				{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
				{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
				{Name: "APP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
				{Name: "MEM", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
				{Name: "COMBINED", Value: "$(COLOR)/$(POD_NAME)/$(UNDEFINED)"},
				{Name: "MISSING", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Key: "k", Optional: ptr.To(true)}}},
			},
			EnvFrom:   []corev1.EnvFromSource{{Prefix: "CFG_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("32Mi")}},
		}},
	}})
	p := c.completed(t, ns, "env")
	msg := message(t, p, "env")
	for _, want := range []string{"COLOR=blue", "PASSWORD=s3cret", "POD_NAME=env", "POD_IP=" + p.Status.PodIP, "NODE=" + c.name, "APP=env",
		"MEM=32", "COMBINED=blue/env/$(UNDEFINED)", "CFG_color=blue", "CFG_size=XL", "PWD=/tmp", "args:blue-x:$(COLOR)"} {
		if !strings.Contains(msg, want+"\n") {
			t.Errorf("environment lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "MISSING=") {
		t.Errorf("optional missing key was set:\n%s", msg)
	}
	if p.Status.Phase != corev1.PodSucceeded {
		t.Errorf("phase %s", p.Status.Phase)
	}
}

func testVolumes(t *testing.T, c *cluster) {
	ns := c.namespace("volumes")
	ctx := context.Background()
	cms := c.client.CoreV1().ConfigMaps(ns)
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "site"}, Data: map[string]string{"index.html": "v1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tls"},
		Data: map[string][]byte{"key": []byte("private")}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "from-host"), []byte("host-data"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "vols", Labels: map[string]string{"tier": "web"}}, Spec: corev1.PodSpec{
		Volumes: []corev1.Volume{
			{Name: "site", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "site"}}}},
			{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "tls", DefaultMode: ptr.To(int32(0o400))}}},
			{Name: "mem", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}},
			{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: host}}},
			{Name: "info", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}}}}}},
			{Name: "proj", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "site"}, Items: []corev1.KeyToPath{{Key: "index.html", Path: "site/page"}}}},
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "tls"}}},
				{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}},
			}}}},
		},
		Containers: []corev1.Container{{Name: "web", Command: sh("cat /tls/key > /www/key; grep -q ' /mem tmpfs' /proc/mounts && echo tmpfs > /www/mem; " +
			"cat /host/from-host > /www/host; echo written > /host/from-pod; cat /info/labels > /www/labels; " +
			"cat /proj/site/page /proj/key /proj/name > /www/proj; stat -c %a /tls/..data/key > /www/mode; ln -s /site/index.html /www/index.html; exec httpd -f -p 8080 -h /www"),
			VolumeMounts: []corev1.VolumeMount{{Name: "site", MountPath: "/site"}, {Name: "tls", MountPath: "/tls"}, {Name: "mem", MountPath: "/mem"},
				{Name: "host", MountPath: "/host"}, {Name: "info", MountPath: "/info"}, {Name: "proj", MountPath: "/proj"},
				{Name: "mem", MountPath: "/www", SubPath: "www"}}}},
	}})
	p := c.waitPod(t, ns, "vols", 30*time.Second, "Running", running)
	base := fmt.Sprintf("http://%s:8080/", p.Status.PodIP)
	for file, want := range map[string]string{"key": "private", "mem": "tmpfs", "host": "host-data", "labels": `tier="web"`,
		"proj": "v1privatevols", "mode": "400", "index.html": "v1"} {
		var got string
		waitFor(t, 10*time.Second, file, func() (err error) {
			got, err = httpGet(base + file)
			return err
		})
		if strings.TrimSpace(got) != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(host, "from-pod")); err != nil || strings.TrimSpace(string(b)) != "written" {
		t.Errorf("hostPath write-through: %q %v", b, err)
	}
	// The configMap changes in place, in the running container.
	cm, err := cms.Get(ctx, "site", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["index.html"] = "v2"
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "configMap update visible in the container", func() error {
		got, err := httpGet(base + "index.html")
		if err != nil {
			return err
		}
		if strings.TrimSpace(got) != "v2" {
			return fmt.Errorf("still %q", got)
		}
		return nil
	})
	if p2, _ := c.client.CoreV1().Pods(ns).Get(ctx, "vols", metav1.GetOptions{}); p2.Status.ContainerStatuses[0].RestartCount != 0 {
		t.Errorf("the container restarted for a configMap update")
	}
}

func testSecurity(t *testing.T, c *cluster) {
	ns := c.namespace("security")
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "sec"}, Spec: corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		Containers: []corev1.Container{{Name: "c",
			Command: sh("id -u > /dev/termination-log; id -g >> /dev/termination-log; touch /rootfs-test 2>/dev/null && echo writable >> /dev/termination-log || echo readonly >> /dev/termination-log; grep CapEff /proc/self/status >> /dev/termination-log"),
			SecurityContext: &corev1.SecurityContext{RunAsUser: ptr.To(int64(65534)), RunAsGroup: ptr.To(int64(65534)),
				ReadOnlyRootFilesystem: ptr.To(true), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
		}},
	}})
	p := c.completed(t, ns, "sec")
	msg := message(t, p, "c")
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	if len(lines) < 4 || lines[0] != "65534" || lines[1] != "65534" || lines[2] != "readonly" || !strings.HasSuffix(lines[3], "0000000000000000") {
		t.Errorf("security context not applied:\n%s", msg)
	}
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "priv"}, Spec: corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		Containers: []corev1.Container{{Name: "c", Command: sh("grep CapEff /proc/self/status > /dev/termination-log"),
			SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}},
	}})
	p = c.completed(t, ns, "priv")
	if msg := message(t, p, "c"); !strings.Contains(msg, "000001ff") && !strings.Contains(msg, "ffffffff") {
		t.Errorf("privileged container lacks capabilities: %s", msg)
	}
}

// testResources: limits reach the container's cgroup.
func testResources(t *testing.T, c *cluster) {
	ns := c.namespace("resources")
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "limited"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "c", Command: sh("sleep 3600"),
		Resources: corev1.ResourceRequirements{
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
		}}}}})
	p := c.waitPod(t, ns, "limited", 30*time.Second, "Running", running)
	id := strings.TrimPrefix(p.Status.ContainerStatuses[0].ContainerID, "containerd://")
	dir := "/kubepods/burstable/pod" + string(p.UID) + "/" + id
	for file, want := range map[string]string{
		"/sys/fs/cgroup/memory" + dir + "/memory.limit_in_bytes": "67108864",
		"/sys/fs/cgroup/cpu" + dir + "/cpu.cfs_quota_us":         "50000",
		"/sys/fs/cgroup/cpu" + dir + "/cpu.cfs_period_us":        "100000",
		"/sys/fs/cgroup/cpu" + dir + "/cpu.shares":               "256",
	} {
		b, err := os.ReadFile(file)
		if err != nil || strings.TrimSpace(string(b)) != want {
			t.Errorf("%s = %q (%v), want %s", file, b, err, want)
		}
	}
	if p.Status.QOSClass != corev1.PodQOSBurstable {
		t.Errorf("qosClass %s", p.Status.QOSClass)
	}
	// A container over its memory limit is OOM-killed, and says so.
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "hog"}, Spec: corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		Containers: []corev1.Container{{Name: "c", Command: sh("dd if=/dev/zero of=/dev/shm/fill bs=1M count=64"),
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("16Mi")}}}}}})
	p = c.completed(t, ns, "hog")
	if term := p.Status.ContainerStatuses[0].State.Terminated; term == nil || term.Reason != "OOMKilled" || term.ExitCode != 137 {
		t.Errorf("memory hog: %s", brief(p))
	}
}

func testRestartPolicies(t *testing.T, c *cluster) {
	ns := c.namespace("policies")
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "never"}, Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
		Containers: []corev1.Container{{Name: "c", Command: sh("echo bad > /dev/termination-log; exit 4")}}}})
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "onfailure"}, Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyOnFailure,
		Volumes:    []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		Containers: []corev1.Container{{Name: "c", VolumeMounts: []corev1.VolumeMount{{Name: "v", MountPath: "/v"}}, Command: sh("test -f /v/second && exit 0; touch /v/second; exit 1")}}}})
	p := c.completed(t, ns, "never")
	term := p.Status.ContainerStatuses[0].State.Terminated
	if p.Status.Phase != corev1.PodFailed || term == nil || term.ExitCode != 4 || term.Reason != "Error" || strings.TrimSpace(term.Message) != "bad" {
		t.Errorf("restartPolicy Never: phase %s %s", p.Status.Phase, brief(p))
	}
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady && (cond.Status != corev1.ConditionFalse || cond.Reason != "PodCompleted") {
			t.Errorf("Ready condition of a finished pod: %+v", cond)
		}
	}
	p = c.completed(t, ns, "onfailure")
	if p.Status.Phase != corev1.PodSucceeded || p.Status.ContainerStatuses[0].RestartCount != 1 {
		t.Errorf("restartPolicy OnFailure: phase %s %s", p.Status.Phase, brief(p))
	}
}

// expectEvent waits for an event about the pod with reason and a message
// containing msg.
func (c *cluster) expectEvent(t *testing.T, ns, pod, reason, msg string) {
	t.Helper()
	waitFor(t, 20*time.Second, fmt.Sprintf("event %s %q on %s", reason, msg, pod), func() error {
		evs, err := c.client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return err
		}
		var seen []string
		for _, e := range evs.Items {
			if e.InvolvedObject.Name == pod && e.Reason == reason && strings.Contains(e.Message, msg) {
				if e.Source.Component != "kubelet" || e.Source.Host != c.name {
					return fmt.Errorf("event source %+v", e.Source)
				}
				return nil
			}
			seen = append(seen, e.Reason+": "+e.Message)
		}
		return fmt.Errorf("events: %v", seen)
	})
}

// waitFor retries f until it returns nil.
func waitFor(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s: %v", what, err)
}

func testHostNetwork(t *testing.T, c *cluster) {
	ns := c.namespace("hostnet")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "hostnet"}, Spec: corev1.PodSpec{HostNetwork: true,
		Containers: []corev1.Container{{Name: "web", Command: []string{"httpd", "-f", "-p", "127.0.0.1:" + strconv.Itoa(port)}}}}})
	p := c.waitPod(t, ns, "hostnet", 30*time.Second, "Running", running)
	if p.Status.PodIP != c.opts.NodeIP.String() {
		t.Errorf("hostNetwork pod IP %s, want the node's %s", p.Status.PodIP, c.opts.NodeIP)
	}
	waitFor(t, 10*time.Second, "httpd on the host's loopback", func() error {
		_, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/etc/hostname", port))
		return err
	})
}
