package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/navarch/navarch/internal/agent"
	"github.com/navarch/navarch/internal/agent/join"
	"github.com/navarch/navarch/internal/agent/node"
	"github.com/navarch/navarch/internal/bench"
	"github.com/navarch/navarch/internal/server"
)

// agentFlags are the flags of `navarch agent`.
type agentFlags struct {
	opts                     agent.Options
	server, token, tokenFile string
	caHash, caFile           string
	nodeIP                   string
	mirrors, labels          []string
	// hollow runs simulated nodes instead (scale tests).
	hollow     bool
	hollowOpts bench.HollowOptions
}

// Agent is `navarch agent`: the node part (kubelet) joined to a server.
func Agent() *cobra.Command {
	a := &agentFlags{opts: agent.Options{DataDir: "/var/lib/navarch-agent", KubeletPort: 10250, MaxPods: 110}, hollowOpts: hollowDefaults()}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the node agent and join a navarch server",
		Long: "Run the node agent (kubelet) on this machine. The first run joins the cluster: it sends CSRs for the node's\n" +
			"identity to the server's join endpoint, authenticated by --token, after checking the server's CA against\n" +
			"--ca-cert-hash (both printed by `navarch server`). Later runs reuse the certificates in --data-dir.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext()
			defer stop()
			if a.hollow {
				a.hollowOpts.Out = cmd.OutOrStdout()
				return bench.Hollow(ctx, a.hollowOpts)
			}
			if err := a.complete(ctx); err != nil {
				return err
			}
			return agent.Run(ctx, a.opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&a.server, "server", "", "API server URL (https://host:6443); remembered after the first join")
	f.StringVar(&a.token, "token", "", "join token (the server's <data-dir>/pki/token)")
	f.StringVar(&a.tokenFile, "token-file", "", "file holding the join token")
	f.StringVar(&a.caHash, "ca-cert-hash", "", "pin of the server's CA, sha256:<hex> (printed by the server)")
	f.StringVar(&a.caFile, "ca-file", "", "a copy of the server's CA certificate, instead of --ca-cert-hash")
	f.StringVar(&a.opts.DataDir, "data-dir", a.opts.DataDir, "directory for certificates, containerd, pod volumes and logs")
	f.StringVar(&a.opts.NodeName, "node-name", "", "name of the Node (default: the host name)")
	f.StringVar(&a.nodeIP, "node-ip", "", "the node's InternalIP (default: the default route's address)")
	f.StringVar(&a.opts.PodCIDR, "pod-cidr", "", "pod CIDR of this node, overriding the one the node IPAM controller assigns")
	f.StringVar(&a.opts.KubeletAddress, "address", "", "address the kubelet HTTPS server listens on (default: all)")
	f.IntVar(&a.opts.KubeletPort, "kubelet-port", a.opts.KubeletPort, "port of the kubelet HTTPS server (0: any free port)")
	f.StringVar(&a.opts.ContainerRuntimeEndpoint, "container-runtime-endpoint", "", "CRI socket of a running runtime (default: start a private containerd)")
	f.StringVar(&a.opts.ContainerdBinary, "containerd", "", "containerd binary to run (default: from PATH)")
	f.StringVar(&a.opts.SandboxImage, "pod-infra-container-image", "", "sandbox image, present locally (default: navarch's built-in pause image)")
	f.IntVar(&a.opts.MaxPods, "max-pods", a.opts.MaxPods, "pods this node runs at most")
	f.StringSliceVar(&a.opts.ClusterDNS, "cluster-dns", nil, "nameservers of pods with dnsPolicy ClusterFirst")
	f.StringVar(&a.opts.ClusterDomain, "cluster-domain", "cluster.local", "the cluster's DNS domain")
	f.StringVar(&a.opts.ClusterCIDR, "cluster-cidr", "10.244.0.0/16", "the cluster's pod network (the server's --cluster-cidr), for the service proxy and egress masquerading")
	f.StringSliceVar(&a.mirrors, "registry-mirror", nil, "HOST=URL: pull images of registry HOST from URL (http:// for plain HTTP); repeatable")
	f.BoolVar(&a.opts.StopPodsOnExit, "stop-pods-on-exit", false, "stop and remove the node's containers when the agent stops (default: leave them for the next agent to adopt)")
	f.StringSliceVar(&a.labels, "node-labels", nil, "KEY=VALUE labels added to the Node at registration")
	f.BoolVar(&a.hollow, "hollow", false, "run --count simulated nodes in this process instead, for scale tests: Nodes and Leases kept fresh, bound pods reported Running, no containers (authenticates with --kubeconfig, not a join)")
	f.IntVar(&a.hollowOpts.Count, "count", a.hollowOpts.Count, "with --hollow: number of nodes, named --hollow-name-prefix<i>")
	f.StringVar(&a.hollowOpts.NamePrefix, "hollow-name-prefix", a.hollowOpts.NamePrefix, "with --hollow: prefix of the nodes' names")
	f.StringVar(&a.hollowOpts.Kubeconfig, "kubeconfig", "", "with --hollow: kubeconfig of the server (default: $KUBECONFIG or ~/.kube/config)")
	return cmd
}

// complete turns flags into agent options, joining the cluster if the
// node has no valid certificates yet.
func (a *agentFlags) complete(ctx context.Context) error {
	o := &a.opts
	o.Logger = slog.Default()
	var err error
	if o.NodeName == "" {
		if o.NodeName, err = node.Hostname(); err != nil {
			return err
		}
	}
	o.NodeIP = node.DefaultNodeIP()
	if a.nodeIP != "" {
		if o.NodeIP = net.ParseIP(a.nodeIP); o.NodeIP == nil {
			return fmt.Errorf("--node-ip %q is not an IP address", a.nodeIP)
		}
	}
	if o.RegistryMirrors, err = keyValues("--registry-mirror", a.mirrors); err != nil {
		return err
	}
	if o.Labels, err = keyValues("--node-labels", a.labels); err != nil {
		return err
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return err
	}
	serverURL, err := a.serverURL()
	if err != nil {
		return err
	}
	creds, err := a.credentials(ctx, serverURL)
	if err != nil {
		return err
	}
	o.Credentials, o.RestConfig = creds, creds.RestConfig(serverURL)
	return nil
}

// serverURL is --server, or the one remembered from the join.
func (a *agentFlags) serverURL() (string, error) {
	path := filepath.Join(a.opts.DataDir, "server")
	if a.server != "" {
		if !strings.HasPrefix(a.server, "https://") {
			return "", fmt.Errorf("--server %q: want an https:// URL", a.server)
		}
		return a.server, os.WriteFile(path, []byte(a.server+"\n"), 0o600)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", errors.New("--server is required (the API server's URL, e.g. https://10.0.0.1:6443)")
	}
	return strings.TrimSpace(string(b)), nil
}

// credentials loads the node's certificates, or joins for new ones.
func (a *agentFlags) credentials(ctx context.Context, serverURL string) (*join.Credentials, error) {
	o := &a.opts
	id := join.Identity{NodeName: o.NodeName, DNSNames: []string{o.NodeName}, IPs: []net.IP{o.NodeIP}}
	dir := filepath.Join(o.DataDir, "pki")
	if c, ok := join.Load(dir, id); ok {
		return c, nil
	}
	token := a.token
	if a.tokenFile != "" {
		b, err := os.ReadFile(a.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	signer, err := join.Remote{Server: serverURL, Token: token, CAHash: a.caHash, CAFile: a.caFile}.Signer()
	if err != nil {
		return nil, err
	}
	c, err := join.Ensure(ctx, dir, id, signer)
	if err != nil {
		return nil, err
	}
	_ = c.WriteKubeconfig(serverURL, o.NodeName)
	slog.Info("joined the cluster", "server", serverURL, "node", o.NodeName)
	return c, nil
}

func keyValues(flag string, list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s %q: want KEY=VALUE", flag, kv)
		}
		out[k] = v
	}
	return out, nil
}

// addLocalAgentFlags adds the flags of the agent `navarch server` runs.
func addLocalAgentFlags(f *pflag.FlagSet, o *server.AgentOptions) {
	f.StringVar(&o.NodeName, "node-name", "", "name of the local Node (default: the host name)")
	f.StringVar(&o.NodeIP, "node-ip", "", "the local node's InternalIP (default: the default route's address)")
	f.StringVar(&o.PodCIDR, "pod-cidr", "", "pod CIDR of the local node, overriding the node IPAM controller's")
	f.IntVar(&o.KubeletPort, "kubelet-port", 0, "port of the local agent's HTTPS server (default 10250, or any free port if taken)")
	f.StringVar(&o.ContainerRuntimeEndpoint, "container-runtime-endpoint", "", "CRI socket of a running runtime (default: a private containerd)")
	f.StringSliceVar(&o.ClusterDNS, "cluster-dns", nil, "nameservers of pods with dnsPolicy ClusterFirst")
	f.BoolVar(&o.KeepPodsOnExit, "keep-pods-on-exit", false, "leave the local node's containers running when the server stops (the next start adopts them)")
	f.Var(mapFlag{&o.RegistryMirrors}, "registry-mirror", "HOST=URL: pull images of registry HOST from URL (http:// for plain HTTP); repeatable")
}

// mapFlag is a repeatable KEY=VALUE flag.
type mapFlag struct{ m *map[string]string }

func (f mapFlag) String() string {
	if f.m == nil || *f.m == nil {
		return ""
	}
	var parts []string
	for k, v := range *f.m {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (f mapFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	if *f.m == nil {
		*f.m = map[string]string{}
	}
	(*f.m)[k] = v
	return nil
}

func (mapFlag) Type() string { return "key=value" }
