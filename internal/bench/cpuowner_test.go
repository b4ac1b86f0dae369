package bench

import "testing"

func TestOwnerOf(t *testing.T) {
	tests := []struct {
		name   string
		frames []string // leaf first
		want   string
	}{
		{"our code", []string{"github.com/navarch/navarch/internal/scheduler.(*Scheduler).filter"}, ownerNavarch},
		{"allocation charged to the allocator", []string{"runtime.mallocgc", "runtime.newobject",
			"github.com/navarch/navarch/internal/registry/store.(*Store).Update", "net/http.HandlerFunc.ServeHTTP"}, ownerNavarch},
		{"generic stdlib charged to its caller", []string{"sort.Search", "strings.Compare",
			"go.etcd.io/bbolt.(*Cursor).search", "github.com/navarch/navarch/internal/storage.(*Etcd).Create"}, ownerEtcd},
		{"codec called by us", []string{"google.golang.org/protobuf/proto.Marshal", "k8s.io/api/core/v1.(*Pod).Marshal",
			"github.com/navarch/navarch/internal/registry/store.(*Store).encode"}, ownerCodec},
		{"codec called by etcd is etcd's", []string{"google.golang.org/protobuf/proto.Marshal",
			"go.etcd.io/etcd/server/v3/storage/wal.(*encoder).encode", "github.com/navarch/navarch/internal/storage.(*Etcd).Create"}, ownerEtcd},
		{"codec at the root", []string{"k8s.io/api/core/v1.(*Pod).Unmarshal", "runtime.goexit"}, ownerCodec},
		{"TLS", []string{"syscall.Syscall", "internal/poll.(*FD).Write", "crypto/tls.(*Conn).Write", "net/http.(*http2serverConn).writeFrameAsync"}, ownerNet},
		{"client-go", []string{"path.Join", "k8s.io/client-go/rest.(*Request).URL", "github.com/navarch/navarch/internal/scheduler.(*Scheduler).bind"}, ownerClient},
		{"background GC", []string{"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker"}, ownerGC},
		{"GC assist is GC, not the allocator", []string{"runtime.scanobject", "runtime.gcAssistAlloc",
			"runtime.mallocgc", "github.com/navarch/navarch/internal/apiserver.readBody"}, ownerGC},
		{"goroutine scheduling", []string{"runtime.futex", "runtime.findRunnable", "runtime.schedule", "runtime.park_m", "runtime.mcall"}, ownerSched},
		{"bare runtime", []string{"runtime.usleep", "runtime.morestack"}, ownerRuntime},
		{"unknown library", []string{"github.com/spf13/cobra.(*Command).Execute"}, ownerOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ownerOf(tt.frames); got != tt.want {
				t.Errorf("ownerOf = %q, want %q", got, tt.want)
			}
		})
	}
}
