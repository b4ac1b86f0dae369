package bench

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// Owners of CPU time in a breakdown. The question a breakdown answers is
// how much of the cost per pod is code of ours and how much the parts we
// build on (etcd, Go's HTTP/2 and TLS, the Kubernetes codecs, client-go,
// the Go runtime) spend doing what the protocol asks of them.
const (
	ownerNavarch = "navarch"
	ownerEtcd    = "etcd (incl. its gRPC and protobuf)"
	ownerCodec   = "k8s.io/api+apimachinery codecs, validation helpers"
	ownerClient  = "client-go"
	ownerNet     = "Go net/http, HTTP/2, TLS"
	ownerGC      = "Go runtime: garbage collection"
	ownerSched   = "Go runtime: goroutine scheduling"
	ownerRuntime = "Go runtime: other, syscalls"
	ownerOther   = "other libraries"
)

// owners maps function-name prefixes to owners, first match wins. A frame
// of none of them (the runtime, the standard library's generic packages)
// is charged to its nearest caller that has an owner: an allocation costs
// whoever allocates.
var owners = []struct{ prefix, owner string }{
	{"github.com/navarch/", ownerNavarch},
	{"go.etcd.io/", ownerEtcd},
	{"google.golang.org/grpc", ownerEtcd},
	{"go.uber.org/zap", ownerEtcd},
	{"k8s.io/client-go/", ownerClient},
	{"k8s.io/utils/", ownerClient},
	{"k8s.io/apimachinery/", ownerCodec},
	{"k8s.io/api/", ownerCodec},
	{"google.golang.org/protobuf/", ownerCodec},
	{"sigs.k8s.io/", ownerCodec},
	{"github.com/gogo/", ownerCodec},
	{"net/http", ownerNet},
	{"net/textproto", ownerNet},
	{"net/url", ownerNet},
	{"net.", ownerNet},
	{"crypto/", ownerNet},
	{"golang.org/x/net/", ownerNet},
	{"vendor/golang.org/", ownerNet},
}

// generic packages have no owner of their own.
var generic = []string{"runtime.", "runtime/", "internal/", "sync.", "sync/", "reflect.", "sort.", "strings.", "bytes.",
	"strconv.", "math", "unicode", "encoding/", "fmt.", "errors.", "context.", "time.", "container/", "slices.", "maps.",
	"regexp", "path.", "path/", "io.", "bufio.", "syscall.", "os.", "unique.", "iter.", "hash/", "log/", "mime", "cmp.",
	"weak.", "aeshash", "memeqbody", "cmpbody", "indexbyte", "gcWriteBarrier", "gogo"}

// ownerOf charges one sample, its frames leaf first. Codec work done by
// etcd for itself (its raft and WAL protobufs) is etcd's.
func ownerOf(frames []string) string {
	if anyHasPrefix(frames, gcFrames) {
		return ownerGC
	}
	first := ""
	for _, f := range frames {
		o := prefixOwner(f)
		switch {
		case o == "":
			continue
		case first == "":
			first = o
			if o != ownerCodec {
				return o
			}
		case o != ownerCodec:
			if o == ownerEtcd {
				return ownerEtcd
			}
			return first
		}
	}
	if first != "" {
		return first
	}
	if anyHasPrefix(frames, schedFrames) {
		return ownerSched
	}
	return ownerRuntime
}

// gcFrames mark a sample as garbage collection, assists included;
// schedFrames, among samples with no owner, as goroutine scheduling.
var (
	gcFrames    = []string{"runtime.gcBgMarkWorker", "runtime.bgsweep", "runtime.bgscavenge", "runtime.gcAssistAlloc"}
	schedFrames = []string{"runtime.schedule", "runtime.findRunnable", "runtime.mcall", "runtime.park_m", "runtime.goexit0", "runtime.sysmon"}
)

func anyHasPrefix(frames, prefixes []string) bool {
	for _, f := range frames {
		for _, p := range prefixes {
			if strings.HasPrefix(f, p) {
				return true
			}
		}
	}
	return false
}

func prefixOwner(f string) string {
	for _, o := range owners {
		if strings.HasPrefix(f, o.prefix) {
			return o.owner
		}
	}
	for _, g := range generic {
		if strings.HasPrefix(f, g) {
			return ""
		}
	}
	return ownerOther
}

// breakdown sums a CPU profile's time by owner.
func breakdown(data []byte) (map[string]time.Duration, error) {
	p, err := profile.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	idx := len(p.SampleType) - 1 // cpu nanoseconds, after the sample count
	out := map[string]time.Duration{}
	var frames []string
	for _, s := range p.Sample {
		frames = frames[:0]
		for _, loc := range s.Location {
			for _, ln := range loc.Line { // innermost inlined call first
				if ln.Function != nil {
					frames = append(frames, ln.Function.Name)
				}
			}
		}
		out[ownerOf(frames)] += time.Duration(s.Value[idx])
	}
	return out, nil
}

// printBreakdown writes CPU ms per pod by owner, for the server and this
// process, largest total first.
func printBreakdown(w io.Writer, server, self map[string]time.Duration, pods int64, window time.Duration) {
	if pods <= 0 {
		return
	}
	all := map[string]time.Duration{}
	for _, m := range []map[string]time.Duration{server, self} {
		for k, v := range m {
			all[k] += v
		}
	}
	names := make([]string, 0, len(all))
	for k := range all {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return all[names[i]] > all[names[j]] })
	ms := func(d time.Duration) string { return fmt.Sprintf("%6.3f", d.Seconds()*1000/float64(pods)) }
	fmt.Fprintf(w, "CPU per pod by owner, %v profiled while %d pods were bound (ms; server | bench | both):\n", window, pods)
	var ts, tb time.Duration
	for _, k := range names {
		fmt.Fprintf(w, "  %-52s %s | %s | %s\n", k, ms(server[k]), ms(self[k]), ms(all[k]))
		ts, tb = ts+server[k], tb+self[k]
	}
	fmt.Fprintf(w, "  %-52s %s | %s | %s\n", "total", ms(ts), ms(tb), ms(ts+tb))
}
