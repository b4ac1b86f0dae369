package apiserver

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/registry/store"
	"github.com/navarch/navarch/internal/storage/cache"
)

// initialEventsEnd is the annotation on the bookmark that closes the
// initial events of a watch-list stream.
const initialEventsEnd = "k8s.io/initial-events-end"

func (s *Server) watch(w http.ResponseWriter, r *http.Request, ri requestInfo, st store.Interface) {
	out, opts, err := readList(r, ri, st)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.watchTimeout(r))
	defer cancel()
	wch, err := st.Watch(ctx, ri.namespace, opts)
	if err != nil {
		writeError(w, r, err)
		return
	}
	defer wch.Stop()
	ws := &watchStream{s: s, w: w, r: r, out: out, res: st.Resource()}
	ws.start()
	for {
		select {
		case ev, ok := <-wch.ResultChan():
			if !ok {
				return
			}
			if err := ws.send(ev); err != nil {
				return
			}
			if len(wch.ResultChan()) == 0 {
				ws.flush()
			}
		case <-ctx.Done():
			return
		}
	}
}

// watchTimeout honours timeoutSeconds, else picks a random time so that
// clients do not all reconnect at once.
func (s *Server) watchTimeout(r *http.Request) time.Duration {
	if v := r.URL.Query().Get("timeoutSeconds"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	min := s.cfg.MinWatchTimeout
	return min + time.Duration(rand.Int64N(int64(min)))
}

// watchStream frames events for one client.
type watchStream struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	out    output
	res    *registry.Resource
	tables int
}

func (ws *watchStream) protobuf() bool { return ws.out.media == mediaProtobuf && !ws.out.table }

func (ws *watchStream) start() {
	ct := mediaJSON
	if ws.protobuf() {
		ct = mediaProtobuf + ";stream=watch"
	}
	ws.w.Header().Set("Content-Type", ct)
	ws.w.Header().Set("Cache-Control", "no-cache, private")
	ws.w.WriteHeader(http.StatusOK)
	ws.flush()
}

func (ws *watchStream) flush() {
	if f, ok := ws.w.(http.Flusher); ok {
		f.Flush()
	}
}

func (ws *watchStream) send(ev cache.Event) error {
	raw, err := ws.objectBytes(ev)
	if err != nil {
		return err
	}
	if ws.protobuf() {
		return ws.writeProto(ev.Type, raw)
	}
	buf := make([]byte, 0, len(raw)+32)
	buf = append(buf, `{"type":"`...)
	buf = append(buf, ev.Type...)
	buf = append(buf, `","object":`...)
	buf = append(buf, raw...)
	buf = append(buf, "}\n"...)
	_, err = ws.w.Write(buf)
	return err
}

func (ws *watchStream) writeProto(t watch.EventType, raw []byte) error {
	we := metav1.WatchEvent{Type: string(t), Object: runtime.RawExtension{Raw: raw}}
	b, err := we.Marshal()
	if err != nil {
		return err
	}
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	if _, err := ws.w.Write(n[:]); err != nil {
		return err
	}
	_, err = ws.w.Write(b)
	return err
}

// objectBytes encodes the event's object, once per media type for every
// watcher that shares the entry.
func (ws *watchStream) objectBytes(ev cache.Event) ([]byte, error) {
	switch ev.Type {
	case watch.Bookmark:
		bm := ws.bookmark(ev)
		if acc, err := meta.Accessor(bm); err == nil && ws.out.meta {
			// A metadata-only watcher decodes nothing but metadata.
			return ws.encode(partialMeta(acc))
		}
		return ws.encode(bm)
	case watch.Error:
		st := statusOf(watchError(ev.Err, ws.res))
		return ws.encode(&st)
	}
	if ws.out.table {
		t, err := ws.s.toTable(ws.r, ev.Entry.Object, ws.res, ws.tables > 0)
		if err != nil {
			return nil, err
		}
		ws.tables++
		return ws.encode(t)
	}
	if ws.out.meta {
		acc, err := meta.Accessor(ev.Entry.Object)
		if err != nil {
			return nil, err
		}
		return ws.encode(partialMeta(acc))
	}
	return ev.Entry.Memo(ws.out.media, func() ([]byte, error) { return ws.encode(ev.Entry.Object) })
}

func (ws *watchStream) encode(obj runtime.Object) ([]byte, error) {
	media := ws.out.media
	if !ws.protobuf() {
		media = mediaJSON
	}
	return ws.s.codecs.encode(obj, media)
}

// bookmark is an empty object of the resource's kind carrying only the
// resourceVersion (and the initial-events-end marker).
func (ws *watchStream) bookmark(ev cache.Event) runtime.Object {
	obj := ws.res.New()
	obj.GetObjectKind().SetGroupVersionKind(ws.res.GVK())
	if acc, err := meta.Accessor(obj); err == nil {
		acc.SetResourceVersion(strconv.FormatInt(ev.Rev, 10))
		if ev.InitialEventsEnd {
			acc.SetAnnotations(map[string]string{initialEventsEnd: "true"})
		}
	}
	return obj
}

func watchError(err error, res *registry.Resource) error {
	if err == nil {
		return apierrors.NewInternalError(nil)
	}
	return store.ToAPI(err, schema.GroupResource{Group: res.Group, Resource: res.Resource}, "")
}
