// Package version says which Kubernetes API level navarch serves and which
// build it is. It has no dependencies so that every binary can embed it.
package version

import (
	"runtime"

	"k8s.io/apimachinery/pkg/version"
)

// Kubernetes is the API level served: that of the k8s.io/api module.
const (
	Major      = "1"
	Minor      = "37"
	Kubernetes = "v1.37.2"
)

// Build metadata, set with -ldflags "-X ...".
var (
	GitCommit = "unknown"
	BuildDate = "1970-01-01T00:00:00Z"
)

// GitVersion is what /version and `navarch version` report, in the
// "+distribution" style k3s uses, so kubectl parses it as a Kubernetes version.
const GitVersion = Kubernetes + "+navarch"

// Info returns the /version document.
func Info() version.Info {
	return version.Info{
		Major: Major, Minor: Minor, GitVersion: GitVersion, GitCommit: GitCommit,
		GitTreeState: "clean", BuildDate: BuildDate, GoVersion: runtime.Version(),
		Compiler: runtime.Compiler, Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}
}
