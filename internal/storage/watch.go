package storage

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// watchBuffer absorbs bursts (a large transaction, a replay from an old
// revision) so the etcd stream is not throttled by one slow consumer.
const watchBuffer = 256

// Watch streams changes under prefix with revisions greater than afterRev
// (0: from now on).
//
// etcd answers RequestProgress only when every watch on the shared stream
// has caught up with history and the store's revision has reached each
// watch's start (afterRev+1). A watch opened at the current revision thus
// gets no EventProgress until some key anywhere is written; its consumer
// is already as fresh as the store in the meantime.
func (s *Etcd) Watch(ctx context.Context, prefix string, afterRev int64) <-chan Event {
	out := make(chan Event, watchBuffer)
	wctx, cancel := context.WithCancel(streamCtx(ctx))
	key, end := prefix, clientv3.GetPrefixRangeEnd(prefix)
	if key == "" {
		key = "\x00"
	}
	opts := []clientv3.OpOption{
		clientv3.WithRange(end),
		clientv3.WithPrevKV(),
		clientv3.WithProgressNotify(),
	}
	if afterRev > 0 {
		opts = append(opts, clientv3.WithRev(afterRev+1))
	}
	wch := s.client.Watch(wctx, key, opts...)
	go pump(wctx, cancel, wch, out)
	return out
}

// pump translates etcd watch responses until ctx ends or the watch fails.
// Cancelling wctx on exit releases the etcd-side watcher.
func pump(ctx context.Context, cancel context.CancelFunc, wch clientv3.WatchChan, out chan<- Event) {
	defer close(out)
	defer cancel()
	for {
		var resp clientv3.WatchResponse
		var ok bool
		select {
		case <-ctx.Done():
			return
		case resp, ok = <-wch:
		}
		if !ok {
			if ctx.Err() == nil {
				send(ctx, out, Event{Type: EventError, Err: fmt.Errorf("watch: channel closed: %w", ErrUnavailable)})
			}
			return
		}
		if !forward(ctx, resp, out) {
			return
		}
	}
}

// forward sends the events of one response; false means the watch is over.
func forward(ctx context.Context, resp clientv3.WatchResponse, out chan<- Event) bool {
	switch {
	case resp.CompactRevision != 0:
		send(ctx, out, Event{
			Type:     EventError,
			Revision: resp.CompactRevision,
			Err:      fmt.Errorf("watch: oldest available revision is %d: %w", resp.CompactRevision, ErrCompacted),
		})
		return false
	case resp.Canceled || resp.Err() != nil:
		err := resp.Err()
		if err == nil {
			err = fmt.Errorf("canceled by server: %s", resp.CancelReason)
		}
		send(ctx, out, Event{Type: EventError, Err: mapErr("watch", err)})
		return false
	case resp.IsProgressNotify():
		return send(ctx, out, Event{Type: EventProgress, Revision: resp.Header.Revision})
	}
	for _, ev := range resp.Events {
		if !send(ctx, out, toEvent(ev)) {
			return false
		}
	}
	return true
}

func toEvent(ev *clientv3.Event) Event {
	out := Event{Key: string(ev.Kv.Key), Revision: ev.Kv.ModRevision}
	if ev.PrevKv != nil {
		out.PrevValue = ev.PrevKv.Value
	}
	if ev.Type == clientv3.EventTypeDelete {
		out.Type = EventDelete
		return out
	}
	out.Type = EventPut
	out.Value = ev.Kv.Value
	out.Created = ev.Kv.CreateRevision == ev.Kv.ModRevision
	return out
}

// send delivers ev unless ctx ends first.
func send(ctx context.Context, out chan<- Event, ev Event) bool {
	select {
	case out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}
