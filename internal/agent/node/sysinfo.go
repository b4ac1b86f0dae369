package node

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// machine is what the node reports about its hardware and software.
type machine struct {
	cpus       int
	memory     int64 // bytes
	storage    int64 // bytes of the data dir's file system
	hugepages  int64
	machineID  string
	systemUUID string
	bootID     string
	kernel     string
	osImage    string
}

func readMachine(dataDir string) machine {
	m := machine{cpus: runtime.NumCPU()}
	m.memory = meminfo("MemTotal")
	var st syscall.Statfs_t
	if syscall.Statfs(dataDir, &st) == nil {
		m.storage = int64(st.Blocks) * st.Bsize
	}
	m.machineID = firstLine("/etc/machine-id")
	m.systemUUID = strings.ToLower(firstLine("/sys/class/dmi/id/product_uuid"))
	if m.systemUUID == "" {
		m.systemUUID = m.machineID
	}
	m.bootID = firstLine("/proc/sys/kernel/random/boot_id")
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		m.kernel = utsString(u.Release[:])
	}
	m.osImage = osRelease()
	return m
}

func firstLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line)
}

func utsString(b []int8) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		out = append(out, byte(c))
	}
	return string(out)
}

// meminfo returns a /proc/meminfo field in bytes.
func meminfo(field string) int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		return n
	}
	return 0
}

// osRelease is PRETTY_NAME from /etc/os-release, as the kubelet reports.
func osRelease() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return "Linux"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
			if s, err := strconv.Unquote(v); err == nil {
				return s
			}
			return strings.Trim(v, `"'`)
		}
	}
	return "Linux"
}

// resources returns capacity (allocatable is the same: navarch reserves
// nothing for system daemons).
func (m machine) resources(maxPods int) corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:                   *resource.NewQuantity(int64(m.cpus), resource.DecimalSI),
		corev1.ResourceMemory:                *resource.NewQuantity(m.memory, resource.BinarySI),
		corev1.ResourceEphemeralStorage:      *resource.NewQuantity(m.storage, resource.BinarySI),
		corev1.ResourcePods:                  *resource.NewQuantity(int64(maxPods), resource.DecimalSI),
		corev1.ResourceName("hugepages-2Mi"): *resource.NewQuantity(0, resource.BinarySI),
		corev1.ResourceName("hugepages-1Gi"): *resource.NewQuantity(0, resource.BinarySI),
	}
}

// DefaultNodeIP is the IPv4 address of the interface holding the default
// route, else the first non-loopback IPv4 address, else loopback.
func DefaultNodeIP() net.IP {
	if iface := defaultRouteInterface(); iface != "" {
		if ifc, err := net.InterfaceByName(iface); err == nil {
			if ip := firstIPv4(ifc); ip != nil {
				return ip
			}
		}
	}
	ifaces, _ := net.Interfaces()
	for i := range ifaces {
		if ifaces[i].Flags&net.FlagLoopback != 0 || ifaces[i].Flags&net.FlagUp == 0 {
			continue
		}
		if ip := firstIPv4(&ifaces[i]); ip != nil {
			return ip
		}
	}
	return net.IPv4(127, 0, 0, 1)
}

func firstIPv4(ifc *net.Interface) net.IP {
	addrs, err := ifc.Addrs()
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.To4()
		}
	}
	return nil
}

// defaultRouteInterface reads /proc/net/route for the 0.0.0.0/0 entry.
func defaultRouteInterface() string {
	b, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) > 7 && f[1] == "00000000" && f[7] == "00000000" {
			return f[0]
		}
	}
	return ""
}

// Hostname is the node's default name: the host name, lower-cased as
// Node names must be.
func Hostname() (string, error) {
	h, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("host name: %w", err)
	}
	return strings.ToLower(strings.TrimSpace(h)), nil
}

// Capacity is what the node reports as capacity and allocatable.
func Capacity(dataDir string, maxPods int) corev1.ResourceList {
	return readMachine(dataDir).resources(maxPods)
}
