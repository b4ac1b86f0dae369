// Package netnstest builds throw-away network namespaces, bridges and veth
// pairs for integration tests of the proxy, DNS and routes, so that test
// traffic only ever goes to addresses inside namespaces the test made. It
// needs root and iproute2; everything it creates is deleted in t.Cleanup.
//
// It must not be imported by non-test code.
package netnstest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var counter atomic.Int64

// Require skips the test unless it can create namespaces.
func Require(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("network namespace tests are skipped in -short mode")
	}
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("iproute2 (ip) not installed")
	}
}

// NS is a named network namespace.
type NS struct {
	Name string
	t    *testing.T
}

// New creates a namespace with its loopback up, deleted at cleanup.
func New(t *testing.T, prefix string) *NS {
	t.Helper()
	name := fmt.Sprintf("%s%d-%d", prefix, os.Getpid()%100000, counter.Add(1))
	run(t, "ip", "netns", "add", name)
	ns := &NS{Name: name, t: t}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	ns.IP("link", "set", "lo", "up")
	return ns
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// IP runs `ip -n NS args...`.
func (n *NS) IP(args ...string) string {
	n.t.Helper()
	return run(n.t, append([]string{"ip", "-n", n.Name}, args...)...)
}

// Exec runs a command inside the namespace and returns its output and error.
func (n *NS) Exec(args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", n.Name}, args...)...).CombinedOutput()
	return string(out), err
}

// Path is the namespace's bind mount.
func (n *NS) Path() string { return "/var/run/netns/" + n.Name }

// Fd opens the namespace; the caller closes it.
func (n *NS) Fd() (int, error) { return unix.Open(n.Path(), unix.O_RDONLY|unix.O_CLOEXEC, 0) }

// Do runs fn on a thread inside the namespace. Sockets fn opens stay in
// the namespace after it returns.
func (n *NS) Do(fn func() error) error {
	fd, err := n.Fd()
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	errc := make(chan error, 1)
	go func() {
		// The thread is never returned to the runtime's pool: it dies
		// with this goroutine, namespace and all.
		runtime.LockOSThread()
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// Bridge creates a bridge with addr (CIDR form) in the namespace.
func (n *NS) Bridge(name, addr string) {
	n.t.Helper()
	n.IP("link", "add", name, "type", "bridge")
	n.IP("addr", "add", addr, "dev", name)
	n.IP("link", "set", name, "up")
}

// Attach creates a namespace joined to bridge br of host by a veth pair,
// with addr (CIDR form) on its eth0 and a default route via gw.
func Attach(t *testing.T, host *NS, br, prefix, addr, gw string) *NS {
	t.Helper()
	ns := New(t, prefix)
	hostEnd := fmt.Sprintf("v%d", counter.Add(1))
	host.IP("link", "add", hostEnd, "type", "veth", "peer", "name", "eth0", "netns", ns.Name)
	host.IP("link", "set", hostEnd, "master", br)
	// As the CNI bridge plugin's hairpinMode: a pod reaching itself
	// through a Service IP gets its frame back out of the same port.
	host.IP("link", "set", hostEnd, "type", "bridge_slave", "hairpin", "on")
	host.IP("link", "set", hostEnd, "up")
	ns.IP("addr", "add", addr, "dev", "eth0")
	ns.IP("link", "set", "eth0", "up")
	if gw != "" {
		ns.IP("route", "add", "default", "via", gw)
	}
	return ns
}

// Serve answers HTTP on addr inside the namespace with body, until the
// test ends.
func (n *NS) Serve(addr, body string) {
	n.t.Helper()
	n.ServeFunc(addr, func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, body) })
}

// ServeFunc answers HTTP on addr inside the namespace with h, until the
// test ends.
func (n *NS) ServeFunc(addr string, h http.HandlerFunc) {
	n.t.Helper()
	var l net.Listener
	if err := n.Do(func() (err error) { l, err = net.Listen("tcp", addr); return err }); err != nil {
		n.t.Fatalf("listen %s in %s: %v", addr, n.Name, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	n.t.Cleanup(func() { _ = srv.Close() })
}

// Get fetches http://addr/ from inside the namespace on a new connection
// (so every call is a new load-balancing decision) and returns the body.
func (n *NS) Get(addr string) (string, error) {
	var conn net.Conn
	// Only the socket must be made on the namespace's thread; the rest
	// may run anywhere.
	if err := n.Do(func() (err error) { conn, err = net.DialTimeout("tcp", addr, 2*time.Second); return err }); err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := fmt.Fprintf(conn, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", addr); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// Dial opens a connection of network ("tcp", "udp") to addr from inside
// the namespace, optionally from a fixed local address.
func (n *NS) Dial(network, addr string) (net.Conn, error) {
	var conn net.Conn
	err := n.Do(func() (err error) { conn, err = net.DialTimeout(network, addr, 2*time.Second); return err })
	return conn, err
}
