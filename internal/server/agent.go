package server

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/navarch/navarch/internal/agent"
	"github.com/navarch/navarch/internal/agent/join"
	"github.com/navarch/navarch/internal/agent/node"
	"github.com/navarch/navarch/internal/pki"
)

// AgentOptions configure the node agent that `navarch server` runs for the
// local machine. Zero values pick the agent's defaults.
type AgentOptions struct {
	// NodeName names the local Node (default: the host name).
	NodeName string
	// NodeIP is its InternalIP (default: the default route's address).
	NodeIP string
	// PodCIDR overrides the node IPAM controller's choice.
	PodCIDR string
	// KubeletPort is the agent's HTTPS port; 0 means 10250, or any free
	// port when 10250 is taken (several servers on one machine).
	KubeletPort int
	// ContainerRuntimeEndpoint is an existing CRI socket; empty runs a
	// private containerd under <data-dir>/agent.
	ContainerRuntimeEndpoint string
	// RegistryMirrors maps registry hosts to endpoints (http:// for plain
	// HTTP).
	RegistryMirrors map[string]string
	// ClusterDNS are the pods' nameservers for dnsPolicy ClusterFirst.
	ClusterDNS []string
	// KeepPodsOnExit leaves the node's containers running when the server
	// stops, for the next start to adopt; by default the local node's pods
	// stop with the server.
	KeepPodsOnExit bool
}

// defaultKubeletPort is upstream's kubelet port.
const defaultKubeletPort = 10250

// startAgent runs the local node agent in the background unless disabled.
// Its certificates come straight from the CA on disk; its data lives in
// <data-dir>/agent.
func (s *Server) startAgent(ctx context.Context) error {
	s.logJoinCommand()
	if s.opts.DisableAgent {
		return nil
	}
	o := s.opts.Agent
	opts := agent.Options{NodeName: o.NodeName, DataDir: filepath.Join(s.opts.DataDir, "agent"), PodCIDR: o.PodCIDR,
		ContainerRuntimeEndpoint: o.ContainerRuntimeEndpoint, RegistryMirrors: o.RegistryMirrors, ClusterDNS: o.ClusterDNS,
		KubeletPort: o.KubeletPort, StopPodsOnExit: !o.KeepPodsOnExit, ClusterCIDR: s.opts.ClusterCIDR, Logger: s.log}
	if opts.NodeName == "" {
		h, err := node.Hostname()
		if err != nil {
			return err
		}
		opts.NodeName = h
	}
	opts.NodeIP = node.DefaultNodeIP()
	if o.NodeIP != "" {
		if opts.NodeIP = net.ParseIP(o.NodeIP); opts.NodeIP == nil {
			return fmt.Errorf("--node-ip %q is not an IP address", o.NodeIP)
		}
	}
	if opts.KubeletPort == 0 {
		opts.KubeletPort, opts.KubeletPortFallback = defaultKubeletPort, true
	}
	creds, err := join.Ensure(ctx, filepath.Join(opts.DataDir, "pki"), localIdentity(opts.NodeName, opts.NodeIP), s.signLocal)
	if err != nil {
		return fmt.Errorf("local node credentials: %w", err)
	}
	opts.Credentials, opts.RestConfig = creds, creds.RestConfig(s.URL)
	s.runComponent(ctx, "agent", func(ctx context.Context) error { return agent.Run(ctx, opts) })
	return nil
}

func (s *Server) signLocal(_ context.Context, req join.Request) (*join.Response, error) {
	return s.signNode(req)
}

// localIdentity names the node's serving certificate after everything the
// API server or a user may dial it by.
func localIdentity(name string, ip net.IP) join.Identity {
	id := join.Identity{NodeName: name, DNSNames: []string{name, "localhost"}, IPs: []net.IP{ip, net.IPv4(127, 0, 0, 1)}}
	if h, err := os.Hostname(); err == nil && strings.ToLower(h) != name {
		id.DNSNames = append(id.DNSNames, strings.ToLower(h))
	}
	return id
}

// logJoinCommand tells the operator how other machines join: the token
// stays in its 0600 file, and the CA pin lets agents trust this server.
func (s *Server) logJoinCommand() {
	dir := filepath.Join(s.opts.DataDir, "pki")
	ca, err := pki.EnsureCA(dir)
	if err != nil {
		return
	}
	hash, err := join.CAHash(ca.CertPEM)
	if err != nil {
		return
	}
	s.log.Info("to join a node: navarch agent --server " + s.URL + " --token $(cat " + filepath.Join(dir, "token") + ") --ca-cert-hash " + hash)
}
