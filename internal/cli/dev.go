package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/navarch/navarch/internal/agent/images"
	"github.com/navarch/navarch/internal/agent/join"
)

// Dev is `navarch dev`: tools for developing navarch on one machine.
func Dev() *cobra.Command {
	cmd := &cobra.Command{Use: "dev", Short: "Development tools: a multi-node cluster on one machine"}
	cmd.AddCommand(devCluster(), devNetnsExec())
	return cmd
}

// devClusterFlags are the flags of `navarch dev cluster`.
type devClusterFlags struct {
	nodes       int
	dataDir     string
	name        string
	subnet      string
	port        int
	grace       time.Duration
	pool        string
	noBusybox   bool
	clusterCIDR string
}

func devCluster() *cobra.Command {
	f := &devClusterFlags{}
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Run a cluster of several nodes on this machine, each in its own network namespace",
		Long: "Run `navarch server` on a bridge of its own and one `navarch agent` per node, each node a network\n" +
			"namespace joined to the bridge by a veth pair, with its own containerd and data dir. The agents join\n" +
			"with the server's token exactly as on separate machines. Runs until interrupted, then removes the\n" +
			"namespaces and the bridge. Needs root. When every node is Ready it writes <data-dir>/ready and prints\n" +
			"how to reach the cluster.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext()
			defer stop()
			return f.run(ctx, cmd)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.nodes, "nodes", 3, "number of nodes")
	fl.StringVar(&f.dataDir, "data-dir", "/var/lib/navarch-dev", "directory for the server's and every node's data")
	fl.StringVar(&f.name, "name", "nvdev", "prefix of the bridge, namespaces and links (at most 8 characters)")
	fl.StringVar(&f.subnet, "subnet", "172.31.250.0/24", "the nodes' network: the bridge takes .1, node i takes .(10+i)")
	fl.IntVar(&f.port, "secure-port", 6443, "API server port on the bridge address")
	fl.DurationVar(&f.grace, "node-monitor-grace-period", 0, "passed to the server (default: upstream's 40s)")
	fl.StringVar(&f.pool, "servicelb-address-pool", "", "passed to the server: LoadBalancer addresses from a pool instead of node IPs")
	fl.StringVar(&f.clusterCIDR, "cluster-cidr", "10.244.0.0/16", "the pod network")
	fl.BoolVar(&f.noBusybox, "no-busybox", false, "do not import the busybox image into every node")
	return cmd
}

// devNetnsExec is the hidden helper that starts a program in a network
// namespace without a new mount namespace (`ip netns exec` remounts /sys,
// which hides the cgroup hierarchies containerd needs).
func devNetnsExec() *cobra.Command {
	return &cobra.Command{
		Use: "netns-exec NAME -- COMMAND [ARGS...]", Hidden: true, Args: cobra.MinimumNArgs(2),
		RunE: func(_ *cobra.Command, args []string) error { return netnsExec(args[0], args[1:]) },
	}
}

func netnsExec(name string, argv []string) error {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return err
	}
	// The namespace belongs to this thread only; exec replaces the whole
	// process from it, so the program runs there.
	runtime.LockOSThread()
	fd, err := unix.Open(filepath.Join("/var/run/netns", name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("network namespace %s: %w", name, err)
	}
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("enter network namespace %s: %w", name, err)
	}
	return syscall.Exec(path, argv, os.Environ())
}

// devNode is one node of the dev cluster.
type devNode struct {
	name, netns, link, ip string
	dataDir               string
	proc                  *proc
}

// proc is a child process with one waiter.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (f *devClusterFlags) run(ctx context.Context, cmd *cobra.Command) error {
	if os.Geteuid() != 0 {
		return errors.New("navarch dev cluster needs root (network namespaces)")
	}
	if f.nodes < 1 || f.nodes > 200 || len(f.name) == 0 || len(f.name) > 8 {
		return errors.New("--nodes must be 1 to 200 and --name 1 to 8 characters")
	}
	_, subnet, err := net.ParseCIDR(f.subnet)
	if err != nil || subnet.IP.To4() == nil {
		return fmt.Errorf("--subnet %q: want an IPv4 CIDR", f.subnet)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if f.dataDir, err = filepath.Abs(f.dataDir); err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(f.dataDir, "ready"))
	ones, _ := subnet.Mask.Size()
	gw := nthIP(subnet.IP, 1)
	bridge := f.name + "br"
	var nodes []*devNode
	for i := 1; i <= f.nodes; i++ {
		nodes = append(nodes, &devNode{name: fmt.Sprintf("node-%d", i), netns: fmt.Sprintf("%s-node-%d", f.name, i),
			link: fmt.Sprintf("%sv%d", f.name, i), ip: nthIP(subnet.IP, 10+i).String(), dataDir: filepath.Join(f.dataDir, fmt.Sprintf("node-%d", i))})
	}
	f.teardown(bridge, nodes)
	defer f.teardown(bridge, nodes)
	if err := setupBridge(bridge, fmt.Sprintf("%s/%d", gw, ones)); err != nil {
		return err
	}
	if err := isolate(f.name+"-dev", bridge, subnet); err != nil {
		return err
	}
	for _, n := range nodes {
		if err := setupNodeNetns(n, bridge, ones, gw.String()); err != nil {
			return err
		}
	}
	srv, err := f.startServer(ctx, self, gw.String())
	if err != nil {
		return err
	}
	defer stopProcess(srv, 10*time.Second)
	serverURL := "https://" + net.JoinHostPort(gw.String(), strconv.Itoa(f.port))
	token, hash, err := joinSecrets(filepath.Join(f.dataDir, "server", "pki"))
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if err := f.startAgent(self, n, serverURL, token, hash); err != nil {
			return err
		}
		defer stopProcess(n.proc, 15*time.Second)
	}
	kubeconfig := filepath.Join(f.dataDir, "server", "kubeconfig.yaml")
	if err := waitNodesReady(ctx, kubeconfig, len(nodes), 3*time.Minute); err != nil {
		return err
	}
	if !f.noBusybox {
		f.importBusybox(ctx, self, nodes)
	}
	if err := os.WriteFile(filepath.Join(f.dataDir, "ready"), []byte(kubeconfig+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "navarch dev cluster is ready: %d nodes on bridge %s (%s).\n  export KUBECONFIG=%s\n  kubectl get nodes -o wide\n"+
		"Every node has the image busybox:local. Node i is network namespace %s-node-i (ip netns exec %s-node-1 ...); logs are in %s/*.log. Ctrl-C stops it all.\n",
		len(nodes), bridge, f.subnet, kubeconfig, f.name, f.name, f.dataDir)
	return f.supervise(ctx, srv, nodes)
}

// supervise waits for an interrupt; a process that dies ends the cluster.
func (f *devClusterFlags) supervise(ctx context.Context, srv *proc, nodes []*devNode) error {
	died := make(chan string, len(nodes)+1)
	watch := func(name string, p *proc) {
		go func() {
			<-p.done
			died <- name
		}()
	}
	watch("server", srv)
	for _, n := range nodes {
		watch(n.name, n.proc)
	}
	select {
	case <-ctx.Done():
		return nil
	case name := <-died:
		return fmt.Errorf("%s exited; see %s/%s.log", name, f.dataDir, name)
	}
}

func nthIP(base net.IP, n int) net.IP {
	b := append(net.IP(nil), base.To4()...)
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func setupBridge(name, addr string) error {
	for _, args := range [][]string{
		{"link", "add", name, "type", "bridge"},
		{"addr", "add", addr, "dev", name},
		{"link", "set", name, "up"},
	} {
		if err := ipCmd(args...); err != nil {
			return err
		}
	}
	return os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644)
}

// setupNodeNetns makes the node's namespace: eth0 on the bridge with the
// node's address and a default route through the bridge.
func setupNodeNetns(n *devNode, bridge string, ones int, gw string) error {
	steps := [][]string{
		{"netns", "add", n.netns},
		{"link", "add", n.link, "type", "veth", "peer", "name", "eth0", "netns", n.netns},
		{"link", "set", n.link, "master", bridge},
		{"link", "set", n.link, "up"},
		{"-n", n.netns, "link", "set", "lo", "up"},
		{"-n", n.netns, "addr", "add", fmt.Sprintf("%s/%d", n.ip, ones), "dev", "eth0"},
		{"-n", n.netns, "link", "set", "eth0", "up"},
		{"-n", n.netns, "route", "add", "default", "via", gw},
	}
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			return err
		}
	}
	return nil
}

// teardown removes what a previous or this run created; errors are for
// things already gone.
func (f *devClusterFlags) teardown(bridge string, nodes []*devNode) {
	for _, n := range nodes {
		_ = exec.Command("ip", "netns", "del", n.netns).Run()
		_ = exec.Command("ip", "link", "del", n.link).Run()
	}
	_ = exec.Command("ip", "link", "del", bridge).Run()
	_ = deleteNFTable(f.name + "-dev")
}

// isolate keeps the nodes' traffic on this machine: packets from the
// node subnet are not forwarded anywhere but the bridge (no image pulls or
// DNS queries leave through the host's uplink).
func isolate(table, bridge string, subnet *net.IPNet) error {
	c, err := nftables.New()
	if err != nil {
		return err
	}
	t := c.AddTable(&nftables.Table{Name: table, Family: nftables.TableFamilyIPv4})
	accept := nftables.ChainPolicyAccept
	ch := c.AddChain(&nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter, Hooknum: nftables.ChainHookForward,
		Priority: nftables.ChainPriorityFilter, Policy: &accept})
	name := make([]byte, 16)
	copy(name, bridge)
	c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte(net.IP(subnet.Mask).To4()), Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: subnet.IP.To4()},
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: name},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables table %s: %w", table, err)
	}
	return nil
}

func deleteNFTable(name string) error {
	c, err := nftables.New()
	if err != nil {
		return err
	}
	t := &nftables.Table{Name: name, Family: nftables.TableFamilyIPv4}
	c.AddTable(t)
	c.DelTable(t)
	return c.Flush()
}

func logFile(dir, name string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
}

func (f *devClusterFlags) startServer(ctx context.Context, self, addr string) (*proc, error) {
	args := []string{"server", "--data-dir", filepath.Join(f.dataDir, "server"), "--bind-address", addr,
		"--secure-port", strconv.Itoa(f.port), "--disable-agent", "--cluster-cidr", f.clusterCIDR}
	if f.grace > 0 {
		args = append(args, "--node-monitor-grace-period", f.grace.String())
	}
	if f.pool != "" {
		args = append(args, "--servicelb-address-pool", f.pool)
	}
	c, err := startLogged(self, args, f.dataDir, "server")
	if err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(f.dataDir, "server", "kubeconfig.yaml")
	deadline := time.Now().Add(90 * time.Second)
	for {
		if _, err := os.Stat(kubeconfig); err == nil {
			if cs, err := clientFor(kubeconfig); err == nil {
				if _, err := cs.Discovery().ServerVersion(); err == nil {
					return c, nil
				}
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			stopProcess(c, 5*time.Second)
			return nil, fmt.Errorf("the server did not become ready; see %s/server.log", f.dataDir)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func startLogged(bin string, args []string, dir, name string) (*proc, error) {
	lf, err := logFile(dir, name)
	if err != nil {
		return nil, err
	}
	c := exec.Command(bin, args...)
	c.Stdout, c.Stderr = lf, lf
	if err := c.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{cmd: c, done: make(chan struct{})}
	go func() {
		_ = c.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

func joinSecrets(pkiDir string) (token, hash string, err error) {
	t, err := os.ReadFile(filepath.Join(pkiDir, "token"))
	if err != nil {
		return "", "", fmt.Errorf("join token: %w", err)
	}
	ca, err := os.ReadFile(filepath.Join(pkiDir, "ca.crt"))
	if err != nil {
		return "", "", fmt.Errorf("cluster CA: %w", err)
	}
	hash, err = join.CAHash(ca)
	return strings.TrimSpace(string(t)), hash, err
}

// startAgent runs `navarch agent` in the node's namespace, joining as a
// separate machine would.
func (f *devClusterFlags) startAgent(self string, n *devNode, serverURL, token, hash string) error {
	args := []string{"dev", "netns-exec", n.netns, "--", self, "agent", "--server", serverURL, "--token", token, "--ca-cert-hash", hash,
		"--node-name", n.name, "--node-ip", n.ip, "--data-dir", n.dataDir, "--cluster-cidr", f.clusterCIDR, "--stop-pods-on-exit"}
	c, err := startLogged(self, args, f.dataDir, n.name)
	if err != nil {
		return err
	}
	n.proc = c
	return nil
}

func clientFor(kubeconfig string) (kubernetes.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

func waitNodesReady(ctx context.Context, kubeconfig string, want int, timeout time.Duration) error {
	cs, err := clientFor(kubeconfig)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		ready := 0
		if err == nil {
			for _, n := range list.Items {
				for _, c := range n.Status.Conditions {
					if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
						ready++
					}
				}
			}
		}
		if ready >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d nodes Ready after %s: %w", ready, want, timeout, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// devBusybox is the busybox image the dev cluster's nodes have, under a
// tag that is never pulled.
const devBusybox = "docker.io/library/busybox:local"

func (f *devClusterFlags) importBusybox(ctx context.Context, self string, nodes []*devNode) {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		slog.Warn("no /bin/busybox (busybox-static): not importing the busybox image")
		return
	}
	for _, n := range nodes {
		// busybox:local as well: a tag other than latest is not pulled
		// (imagePullPolicy IfNotPresent), so pods start with no registry.
		out, err := exec.CommandContext(ctx, self, "images", "busybox", "--data-dir", n.dataDir,
			"--tag", images.BusyboxRef, "--tag", devBusybox).CombinedOutput()
		if err != nil {
			slog.Warn("import busybox", "node", n.name, "err", err, "output", strings.TrimSpace(string(out)))
		}
	}
}

// stopProcess sends SIGTERM and kills after grace.
func stopProcess(p *proc, grace time.Duration) {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}
