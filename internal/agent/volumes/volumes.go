package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Getter reads the API objects volumes are made of. Errors for missing
// objects must satisfy apierrors.IsNotFound so that optional sources work.
type Getter interface {
	ConfigMap(namespace, name string) (*corev1.ConfigMap, error)
	Secret(namespace, name string) (*corev1.Secret, error)
	// Token returns a service account token for a projected volume.
	Token(pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection) (string, error)
}

// Mount is where a volume is on the host.
type Mount struct {
	HostPath string
	ReadOnly bool
}

// Manager sets up and tears down volumes under Root (one directory per
// pod UID).
type Manager struct {
	Root        string
	Get         Getter
	Allocatable corev1.ResourceList
}

// Error names the volume that failed, in the kubelet's event wording.
type Error struct {
	Volume string
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("MountVolume.SetUp failed for volume %q : %v", e.Volume, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// PodDir is the pod's directory on the node.
func (m *Manager) PodDir(uid types.UID) string { return filepath.Join(m.Root, string(uid)) }

func (m *Manager) volumeDir(uid types.UID, plugin, name string) string {
	return filepath.Join(m.PodDir(uid), "volumes", plugin, name)
}

// Plugin directory names, as the kubelet lays them out.
const (
	pluginEmptyDir  = "kubernetes.io~empty-dir"
	pluginConfigMap = "kubernetes.io~configmap"
	pluginSecret    = "kubernetes.io~secret"
	pluginDownward  = "kubernetes.io~downward-api"
	pluginProjected = "kubernetes.io~projected"
)

// Setup makes every volume of pod ready and returns their host paths. It
// is idempotent and cheap when nothing changed, so the pod worker calls it
// on every sync; that is also how configMap and secret contents follow
// their objects.
func (m *Manager) Setup(pod *corev1.Pod, st Status) (map[string]Mount, error) {
	out := map[string]Mount{}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		mnt, err := m.setupOne(pod, v, st)
		if err != nil {
			return out, &Error{Volume: v.Name, Err: err}
		}
		out[v.Name] = mnt
	}
	return out, nil
}

func (m *Manager) setupOne(pod *corev1.Pod, v *corev1.Volume, st Status) (Mount, error) {
	uid := pod.UID
	switch {
	case v.EmptyDir != nil:
		dir := m.volumeDir(uid, pluginEmptyDir, v.Name)
		return Mount{HostPath: dir}, m.emptyDir(dir, v.EmptyDir)
	case v.HostPath != nil:
		return Mount{HostPath: v.HostPath.Path}, hostPath(v.HostPath)
	case v.ConfigMap != nil:
		dir := m.volumeDir(uid, pluginConfigMap, v.Name)
		files, err := m.configMapFiles(pod.Namespace, v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional, mode(v.ConfigMap.DefaultMode))
		if err != nil {
			return Mount{}, err
		}
		_, err = writeAtomic(dir, files)
		return Mount{HostPath: dir, ReadOnly: true}, err
	case v.Secret != nil:
		dir := m.volumeDir(uid, pluginSecret, v.Name)
		files, err := m.secretFiles(pod.Namespace, v.Secret.SecretName, v.Secret.Items, v.Secret.Optional, mode(v.Secret.DefaultMode))
		if err != nil {
			return Mount{}, err
		}
		if err := ensureTmpfs(dir, ""); err != nil {
			return Mount{}, err
		}
		_, err = writeAtomic(dir, files)
		return Mount{HostPath: dir, ReadOnly: true}, err
	case v.DownwardAPI != nil:
		dir := m.volumeDir(uid, pluginDownward, v.Name)
		files, err := m.downwardFiles(pod, v.DownwardAPI.Items, mode(v.DownwardAPI.DefaultMode), st)
		if err != nil {
			return Mount{}, err
		}
		_, err = writeAtomic(dir, files)
		return Mount{HostPath: dir, ReadOnly: true}, err
	case v.Projected != nil:
		dir := m.volumeDir(uid, pluginProjected, v.Name)
		files, err := m.projectedFiles(pod, v.Projected, st)
		if err != nil {
			return Mount{}, err
		}
		if err := ensureTmpfs(dir, ""); err != nil {
			return Mount{}, err
		}
		_, err = writeAtomic(dir, files)
		return Mount{HostPath: dir, ReadOnly: true}, err
	}
	return Mount{}, fmt.Errorf("volume type not supported on navarch nodes")
}

// mode is the volume's defaultMode, 0644 when unset.
func mode(p *int32) fs.FileMode {
	if p == nil {
		return 0o644
	}
	return fs.FileMode(*p) & fs.ModePerm
}

func (m *Manager) emptyDir(dir string, src *corev1.EmptyDirVolumeSource) error {
	if src.Medium == corev1.StorageMediumMemory {
		size := ""
		if src.SizeLimit != nil && !src.SizeLimit.IsZero() {
			size = fmt.Sprintf("size=%d", src.SizeLimit.Value())
		}
		return ensureTmpfs(dir, size)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	// Any user the container runs as may write, as with upstream.
	return os.Chmod(dir, 0o777)
}

// hostPath checks (or creates) the path as its type asks.
func hostPath(src *corev1.HostPathVolumeSource) error {
	t := corev1.HostPathUnset
	if src.Type != nil {
		t = *src.Type
	}
	fi, err := os.Stat(src.Path)
	switch t {
	case corev1.HostPathUnset:
		return nil
	case corev1.HostPathDirectoryOrCreate:
		if errors.Is(err, fs.ErrNotExist) {
			return os.MkdirAll(src.Path, 0o755)
		}
		if err == nil && !fi.IsDir() {
			return fmt.Errorf("hostPath type check failed: %s is not a directory", src.Path)
		}
		return err
	case corev1.HostPathFileOrCreate:
		if errors.Is(err, fs.ErrNotExist) {
			if err := os.MkdirAll(filepath.Dir(src.Path), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(src.Path, os.O_CREATE|os.O_RDONLY, 0o644)
			if err != nil {
				return err
			}
			return f.Close()
		}
		if err == nil && fi.IsDir() {
			return fmt.Errorf("hostPath type check failed: %s is a directory", src.Path)
		}
		return err
	}
	if err != nil {
		return fmt.Errorf("hostPath type check failed: %s does not exist", src.Path)
	}
	want := map[corev1.HostPathType]func(fs.FileMode) bool{
		corev1.HostPathDirectory: func(m fs.FileMode) bool { return m.IsDir() },
		corev1.HostPathFile:      func(m fs.FileMode) bool { return m.IsRegular() },
		corev1.HostPathSocket:    func(m fs.FileMode) bool { return m&fs.ModeSocket != 0 },
		corev1.HostPathCharDev:   func(m fs.FileMode) bool { return m&fs.ModeCharDevice != 0 },
		corev1.HostPathBlockDev:  func(m fs.FileMode) bool { return m&fs.ModeDevice != 0 && m&fs.ModeCharDevice == 0 },
	}[t]
	if want == nil {
		return fmt.Errorf("unknown hostPath type %q", t)
	}
	if !want(fi.Mode()) {
		return fmt.Errorf("hostPath type check failed: %s is not a %s", src.Path, strings.ToLower(string(t)))
	}
	return nil
}

// ensureTmpfs mounts a tmpfs on dir unless one is there already.
func ensureTmpfs(dir, opts string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if isMountPoint(dir) {
		return nil
	}
	data := "mode=0755"
	if opts != "" {
		data += "," + opts
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, data); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	return nil
}

// isMountPoint compares the device of dir with that of its parent.
func isMountPoint(dir string) bool {
	var a, b syscall.Stat_t
	if syscall.Lstat(dir, &a) != nil || syscall.Lstat(filepath.Dir(dir), &b) != nil {
		return false
	}
	return a.Dev != b.Dev
}

// Teardown unmounts and removes everything of the pod on the node.
func (m *Manager) Teardown(uid types.UID) error {
	dir := m.PodDir(uid)
	if err := unmountUnder(dir); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

// unmountUnder unmounts every mount point below dir, deepest first.
func unmountUnder(dir string) error {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	var points []string
	prefix := filepath.Clean(dir) + "/"
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 {
			p := unescapeMount(f[4])
			if strings.HasPrefix(p, prefix) {
				points = append(points, p)
			}
		}
	}
	// Longer paths are deeper.
	for i := range points {
		for j := i + 1; j < len(points); j++ {
			if len(points[j]) > len(points[i]) {
				points[i], points[j] = points[j], points[i]
			}
		}
	}
	var errs []error
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%o", &v); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// PodUIDs lists the pods that have a directory on the node.
func (m *Manager) PodUIDs() []types.UID {
	entries, err := os.ReadDir(m.Root)
	if err != nil {
		return nil
	}
	out := make([]types.UID, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, types.UID(e.Name()))
		}
	}
	return out
}
