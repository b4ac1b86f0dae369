package streaming

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

const (
	// followPoll is how often a follower at the end of the file looks for
	// more; it bounds the latency of `kubectl logs -f`.
	followPoll = 100 * time.Millisecond
	// runningCheck is how often a follower at the end asks the runtime
	// whether the container still runs.
	runningCheck = time.Second
)

func (h *handler) logs(w http.ResponseWriter, r *http.Request) {
	ns, pod, ctr := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	opts, err := parseLogOptions(r.URL.Query(), time.Now())
	if err != nil {
		writeError(w, badRequest(err))
		return
	}
	id, err := h.cfg.Pods.ContainerID(ns, pod, ctr, opts.previous)
	if err != nil {
		writeError(w, podsError(err))
		return
	}
	st, err := h.containerStatus(r.Context(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	if st.LogPath == "" {
		writeError(w, badRequest(fmt.Errorf("container %q in pod %q has no log file", ctr, pod)))
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	fw := &flushWriter{w: w, rc: http.NewResponseController(w)}
	lr := &logReader{path: st.LogPath, opts: opts, out: newLogWriter(fw, opts),
		running: func(ctx context.Context) bool { return h.running(ctx, id) }}
	if err := lr.run(r.Context()); err != nil && !errors.Is(err, errLimitReached) && r.Context().Err() == nil {
		h.log.Warn("container log stream ended", "pod", ns+"/"+pod, "container", ctr, "err", err)
	}
}

func (h *handler) containerStatus(ctx context.Context, id string) (*runtimeapi.ContainerStatus, error) {
	resp, err := h.cfg.Runtime.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
	if err != nil {
		return nil, runtimeError(fmt.Errorf("container status of %s: %w", id, err))
	}
	if resp.GetStatus() == nil {
		return nil, runtimeError(fmt.Errorf("container status of %s: runtime returned none", id))
	}
	return resp.GetStatus(), nil
}

// running reports whether the container may still write logs; a runtime
// error counts as running so that a hiccup does not end a follow.
func (h *handler) running(ctx context.Context, id string) bool {
	st, err := h.containerStatus(ctx, id)
	if err != nil {
		return ctx.Err() == nil && !isNotFound(err)
	}
	return st.State == runtimeapi.ContainerState_CONTAINER_RUNNING || st.State == runtimeapi.ContainerState_CONTAINER_CREATED
}

// flushWriter flushes every write so that a follower sees lines as they
// are logged.
type flushWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (f *flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		_ = f.rc.Flush()
	}
	return n, err
}

// logReader copies a CRI log file to a logWriter, and with follow keeps
// going as the file grows or is rotated, until the container stops.
type logReader struct {
	path    string
	opts    logOptions
	out     *logWriter
	running func(context.Context) bool
	// pending holds an entry whose newline has not been written yet.
	pending []byte
}

func (lr *logReader) run(ctx context.Context) error {
	f, err := os.Open(lr.path)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	defer func() { f.Close() }()
	if lr.opts.tail >= 0 {
		if err := seekTail(f, lr.opts.tail); err != nil {
			return err
		}
	}
	br := bufio.NewReaderSize(f, 64<<10)
	if !lr.opts.follow {
		return lr.drain(br)
	}
	var lastCheck time.Time
	for {
		if err := lr.drain(br); err != nil {
			return err
		}
		// At the end of the file: a newer file at the path means the log
		// was rotated (this one is complete); a shorter one that it was
		// truncated in place.
		if next, rotated := reopenIfRotated(f, lr.path); rotated {
			f.Close()
			f, lr.pending = next, nil
			br.Reset(f)
			continue
		}
		if time.Since(lastCheck) >= runningCheck {
			lastCheck = time.Now()
			if !lr.running(ctx) {
				// The runtime may report the exit just before it has
				// copied the last output; one more pass picks it up.
				return lr.drain(br)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(followPoll):
		}
	}
}

// drain writes every complete entry up to the end of the file.
func (lr *logReader) drain(br *bufio.Reader) error {
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			lr.pending = append(lr.pending, chunk...)
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				lr.pending = append(lr.pending, chunk...)
				return nil
			}
			return fmt.Errorf("read log: %w", err)
		}
		line := chunk[:len(chunk)-1]
		if len(lr.pending) > 0 {
			lr.pending = append(lr.pending, line...)
			line = lr.pending
		}
		err = lr.emit(line)
		lr.pending = lr.pending[:0]
		if err != nil {
			return err
		}
	}
}

func (lr *logReader) emit(line []byte) error {
	e, err := parseLogLine(line)
	if err != nil {
		// A line we cannot parse is skipped, not fatal: one corrupt
		// entry must not hide the rest of the log.
		return nil
	}
	return lr.out.write(e)
}

func seekTail(f *os.File, n int64) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat log: %w", err)
	}
	off, err := tailOffset(f, fi.Size(), n)
	if err != nil {
		return fmt.Errorf("find tail of log: %w", err)
	}
	_, err = f.Seek(off, io.SeekStart)
	return err
}

// reopenIfRotated returns the file now at path when it is not f (rotated
// by rename) or when f has been truncated below the read position.
func reopenIfRotated(f *os.File, path string) (*os.File, bool) {
	cur, err := f.Stat()
	if err != nil {
		return nil, false
	}
	now, err := os.Stat(path)
	if err != nil {
		// Between the rename and the new file: try again next poll.
		return nil, false
	}
	pos, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, false
	}
	if os.SameFile(cur, now) && now.Size() >= pos {
		return nil, false
	}
	next, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	return next, true
}
