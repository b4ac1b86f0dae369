package agent

import (
	"context"
	"log/slog"
	"os/exec"
	"path/filepath"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/navarch/navarch/internal/agent/cni"
	"github.com/navarch/navarch/internal/agent/containerd"
	"github.com/navarch/navarch/internal/agent/cri"
	"github.com/navarch/navarch/internal/agent/images"
)

// RemoveAllPods takes down every pod an agent that is no longer running
// left on its data dir: it runs that agent's containerd alone, removes
// every sandbox (their containers and networks go with them) and deletes
// the pod bridge. Tests and benchmarks call it before removing a data
// dir, which must never be deleted under running containers.
func RemoveAllPods(ctx context.Context, dataDir string, log *slog.Logger) error {
	sup, err := containerd.Start(ctx, containerd.Config{Dir: filepath.Join(dataDir, "containerd"), SandboxImage: images.PauseRef,
		CNIBinDir: cni.DefaultBinDir, CNIConfDir: filepath.Join(dataDir, "cni", "net.d")}, log)
	if err != nil {
		return err
	}
	defer sup.Stop()
	rt, err := cri.Dial(sup.Socket())
	if err != nil {
		return err
	}
	defer rt.Close()
	sbs, err := rt.Runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return err
	}
	for _, sb := range sbs.Items {
		_, _ = rt.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.Id})
		if _, err := rt.Runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
			return err
		}
	}
	_ = exec.CommandContext(ctx, "ip", "link", "delete", cni.BridgeName(dataDir)).Run()
	return nil
}
