package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3rpc"
	"go.etcd.io/etcd/server/v3/proxy/grpcproxy/adapter"
)

// Embedded-etcd tuning. A single member has no peers to time out on, so
// short ticks cost nothing but idle wake-ups (measured ~1% of a core) and
// bound its self-election at start: a restart waits a full election timeout
// (~450ms with 50/500, ~50ms with 10/50). Memory is bounded mainly by the
// raft entries kept in memory between snapshots.
const (
	embeddedTickMs        = 10
	embeddedElectionMs    = 50
	embeddedSnapshotCount = 5000
	embeddedCatchUp       = 1000
	// Periodic progress notifications let watch caches advance without
	// writes even if nobody calls RequestProgress.
	embeddedProgressInterval = 5 * time.Second
	embeddedStartTimeout     = 60 * time.Second
	// defaultEmbeddedURL asks the kernel for a free port; the peer URL is
	// never dialed by a single member, and a fixed port-0 URL keeps the
	// member ID stable across restarts.
	defaultEmbeddedURL = "http://127.0.0.1:0"
)

// EmbeddedConfig configures an in-process single-member etcd.
type EmbeddedConfig struct {
	// DataDir holds the WAL and database; reusing it keeps the data.
	DataDir string
	// ClientURL is where outside clients (etcdctl, for debugging) connect;
	// default a unix socket named after DataDir with ".sock". This process
	// itself uses an in-process client. Only plain http:// (or unix://)
	// URLs are supported: the embedded member has no authentication.
	ClientURL string
	// PeerURL is the raft peer URL; default 127.0.0.1 on a free port.
	PeerURL string
	// Logger receives etcd's warnings and errors; nil discards them.
	Logger *slog.Logger
	// ProgressNotifyInterval is how often etcd volunteers an EventProgress
	// to idle watches; 0 means 5s.
	ProgressNotifyInterval time.Duration
}

// Embedded is a running in-process etcd with a connected client.
type Embedded struct {
	etcd      *embed.Etcd
	client    *clientv3.Client
	kv        pb.KVClient
	endpoints []string
	// StartDuration is how long etcd took to become ready to serve.
	StartDuration time.Duration

	closeOnce sync.Once
	closeErr  error
	quiet     *atomic.Bool // demotes etcd's shutdown noise, see zapLogger
}

// StartEmbedded starts etcd and returns once it serves requests.
func StartEmbedded(ctx context.Context, cfg EmbeddedConfig) (*Embedded, error) {
	start := time.Now()
	quiet := new(atomic.Bool)
	ecfg, err := cfg.embedConfig(quiet)
	if err != nil {
		return nil, err
	}
	e, err := embed.StartEtcd(ecfg)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd in %s: %w", cfg.DataDir, err)
	}
	if err := waitReady(ctx, e); err != nil {
		quiet.Store(true)
		e.Close()
		return nil, err
	}
	out := &Embedded{etcd: e, StartDuration: time.Since(start), quiet: quiet}
	for _, l := range e.Clients {
		out.endpoints = append(out.endpoints, endpointOf(l.Addr()))
	}
	// The in-process client calls the server's gRPC handlers directly:
	// no socket, no HTTP/2 framing, no protobuf round trip. It saves about
	// a fifth of the server's CPU per write.
	out.client = v3client.New(e.Server)
	out.kv = adapter.KvServerToKvClient(v3rpc.NewQuotaKVServer(e.Server))
	return out, nil
}

// Storage is the storage Interface on this etcd, through the in-process
// client (the same handlers v3client.New calls).
func (e *Embedded) Storage() *Etcd {
	return &Etcd{client: e.client, kv: e.kv}
}

// endpointOf turns a listener address into a client endpoint; the listener
// reveals the port the kernel picked for a ":0" URL.
func endpointOf(a net.Addr) string {
	if a.Network() == "unix" {
		return "unix://" + a.String()
	}
	return "http://" + a.String()
}

func waitReady(ctx context.Context, e *embed.Etcd) error {
	timer := time.NewTimer(embeddedStartTimeout)
	defer timer.Stop()
	select {
	case <-e.Server.ReadyNotify():
		return nil
	case err := <-e.Err():
		return fmt.Errorf("embedded etcd failed while starting: %w", err)
	case <-timer.C:
		return fmt.Errorf("embedded etcd not ready after %v: %w", embeddedStartTimeout, ErrUnavailable)
	case <-ctx.Done():
		return fmt.Errorf("waiting for embedded etcd: %w", ctx.Err())
	}
}

func (cfg EmbeddedConfig) embedConfig(quiet *atomic.Bool) (*embed.Config, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("embedded etcd: DataDir is required")
	}
	// etcd wants its data private; creating (or tightening) it here avoids
	// a warning on every start.
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded etcd data dir: %w", err)
	}
	if err := os.Chmod(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded etcd data dir: %w", err)
	}
	clientURL := cfg.ClientURL
	if clientURL == "" {
		// A socket beside the data dir (which is private) keeps etcd off
		// the network: it has no authentication of its own.
		abs, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("embedded etcd data dir: %w", err)
		}
		clientURL = "unix://" + abs + ".sock"
	}
	curl, err := parseURL(clientURL)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd client URL: %w", err)
	}
	purl, err := parseURL(cfg.PeerURL)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd peer URL: %w", err)
	}
	ec := embed.NewConfig()
	ec.Name = "navarch"
	ec.Dir = cfg.DataDir
	ec.ListenClientUrls = []url.URL{*curl}
	ec.AdvertiseClientUrls = []url.URL{*curl}
	ec.ListenPeerUrls = []url.URL{*purl}
	ec.AdvertisePeerUrls = []url.URL{*purl}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	ec.InitialClusterToken = "navarch"
	ec.TickMs = embeddedTickMs
	ec.ElectionMs = embeddedElectionMs
	ec.InitialElectionTickAdvance = true
	ec.SnapshotCount = embeddedSnapshotCount
	ec.SnapshotCatchUpEntries = embeddedCatchUp
	ec.WatchProgressNotifyInterval = embeddedProgressInterval
	if cfg.ProgressNotifyInterval > 0 {
		ec.WatchProgressNotifyInterval = cfg.ProgressNotifyInterval
	}
	// Retention 0 disables etcd's compactor: the API server runs its own
	// (see RunCompactor).
	ec.AutoCompactionRetention = "0"
	ec.EnableGRPCGateway = false
	ec.EnablePprof = false
	ec.Metrics = "basic"
	// The logger is ours (see zapLogger); etcd reads LogLevel only to turn
	// on debug-only extras, which must stay off.
	ec.LogLevel = "warn"
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zapLogger(cfg.Logger, quiet))
	return ec, nil
}

func parseURL(s string) (*url.URL, error) {
	if s == "" {
		s = defaultEmbeddedURL
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", s, err)
	}
	return u, nil
}

// Client returns the in-process client. It stays owned by Embedded: Close
// closes it.
func (e *Embedded) Client() *clientv3.Client { return e.client }

// Endpoints returns the client URLs etcd listens on.
func (e *Embedded) Endpoints() []string { return append([]string(nil), e.endpoints...) }

// Close closes the client and stops etcd, waiting until its data is synced.
// It is safe to call more than once.
func (e *Embedded) Close() error {
	e.closeOnce.Do(func() {
		// The client may already be closed by a storage.Etcd that wrapped
		// it; a second close reports only that.
		_ = e.client.Close()
		e.quiet.Store(true)
		e.etcd.Close()
		select {
		case <-e.etcd.Server.StopNotify():
		case <-time.After(embeddedStartTimeout):
			e.closeErr = fmt.Errorf("embedded etcd did not stop within %v", embeddedStartTimeout)
		}
	})
	return e.closeErr
}
