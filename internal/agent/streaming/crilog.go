package streaming

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// A CRI log file holds one entry per line:
//
//	2016-10-06T00:17:09.669794202Z stdout F the content
//
// The tag is F for the end of a line and P for a fragment of a line longer
// than the runtime's buffer; a line is its P fragments and the F entry that
// ends it. Further tags may follow the first after ':'.
type logEntry struct {
	ts      time.Time
	stream  string
	partial bool
	content []byte
}

var errBadLogLine = errors.New("malformed CRI log line")

// parseLogLine parses one line without its trailing newline. content
// aliases line.
func parseLogLine(line []byte) (logEntry, error) {
	var e logEntry
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return e, fmt.Errorf("%w: no timestamp", errBadLogLine)
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return e, fmt.Errorf("%w: timestamp %q", errBadLogLine, ts)
	}
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok || (string(stream) != "stdout" && string(stream) != "stderr") {
		return e, fmt.Errorf("%w: stream %q", errBadLogLine, stream)
	}
	tags, content, _ := bytes.Cut(rest, []byte{' '})
	tag, _, _ := bytes.Cut(tags, []byte{':'})
	switch string(tag) {
	case "F":
	case "P":
		e.partial = true
	default:
		return e, fmt.Errorf("%w: tag %q", errBadLogLine, tags)
	}
	e.ts, e.stream, e.content = t, string(stream), content
	return e, nil
}

// errLimitReached ends a read once limitBytes have been written.
var errLimitReached = errors.New("limitBytes reached")

// logWriter turns entries into what `kubectl logs` prints: the content,
// each line prefixed with its timestamp when asked, filtered by stream and
// time, cut at limitBytes.
type logWriter struct {
	w          io.Writer
	timestamps bool
	since      time.Time
	stream     string
	// remaining bytes before limitBytes; < 0 means unlimited.
	remaining int64
	// midLine is per stream: the last entry written was a P fragment, so
	// the next one continues its line and takes no timestamp.
	midLine map[string]bool
}

func newLogWriter(w io.Writer, o logOptions) *logWriter {
	lw := &logWriter{w: w, timestamps: o.timestamps, since: o.since, stream: o.stream, remaining: -1, midLine: map[string]bool{}}
	if o.limit > 0 {
		lw.remaining = o.limit
	}
	return lw
}

// write emits one entry; it returns errLimitReached once the limit is hit.
func (lw *logWriter) write(e logEntry) error {
	if lw.stream != "" && e.stream != lw.stream {
		return nil
	}
	// A line's fragments all carry their own time; a line that started
	// before since is still shown from its first fragment after it, as the
	// kubelet does.
	if !lw.since.IsZero() && e.ts.Before(lw.since) {
		return nil
	}
	var buf []byte
	if lw.timestamps && !lw.midLine[e.stream] {
		// As the runtime wrote it, offset included, as the kubelet prints it.
		buf = append(buf, e.ts.Format(time.RFC3339Nano)...)
		buf = append(buf, ' ')
	}
	buf = append(buf, e.content...)
	if !e.partial {
		buf = append(buf, '\n')
	}
	lw.midLine[e.stream] = e.partial
	if lw.remaining >= 0 && int64(len(buf)) >= lw.remaining {
		_, err := lw.w.Write(buf[:lw.remaining])
		lw.remaining = 0
		if err != nil {
			return err
		}
		return errLimitReached
	}
	if lw.remaining > 0 {
		lw.remaining -= int64(len(buf))
	}
	_, err := lw.w.Write(buf)
	return err
}

// tailOffset returns where the last n lines of a CRI log begin, counting
// lines as the user sees them (P fragments and their F entry are one
// line). It reads backwards so that a large file costs only its tail.
// Bytes after the last newline are an entry still being written; they do
// not count.
func tailOffset(r io.ReaderAt, size, n int64) (int64, error) {
	if n <= 0 {
		return size, nil
	}
	t := tailer{r: r, n: n, last: -1, lineEnd: -1}
	const chunk = 32 << 10
	buf := make([]byte, chunk)
	for end := size; end > 0; {
		start := max(0, end-chunk)
		b := buf[:end-start]
		if _, err := r.ReadAt(b, start); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] != '\n' {
				continue
			}
			if off, done, err := t.newline(start + int64(i)); done || err != nil {
				return off, err
			}
		}
		end = start
	}
	if off, done, err := t.newline(-1); done || err != nil {
		return off, err
	}
	return 0, nil
}

// tailer counts user lines backwards, one newline at a time.
type tailer struct {
	r io.ReaderAt
	n int64
	// last is the file's final newline; lineEnd the newline ending the
	// entry after the one being delimited.
	last, lineEnd, counted int64
}

// newline is called with each newline position from the end, then with -1
// for the start of the file. Each call delimits the entry (nl, lineEnd]: an
// F entry that is not the file's last ends the user line before the ones
// counted so far.
func (t *tailer) newline(nl int64) (int64, bool, error) {
	defer func() { t.lineEnd = nl }()
	if t.lineEnd < 0 {
		t.last = nl
		return 0, false, nil
	}
	if t.lineEnd == t.last {
		return 0, false, nil
	}
	full, err := entryIsFull(t.r, nl+1)
	if err != nil || !full {
		return 0, false, err
	}
	if t.counted++; t.counted == t.n {
		return t.lineEnd + 1, true, nil
	}
	return 0, false, nil
}

// entryIsFull reads the head of the entry starting at off and reports
// whether it ends a line; unparseable lines count as whole lines.
func entryIsFull(r io.ReaderAt, off int64) (bool, error) {
	var head [96]byte
	n, err := r.ReadAt(head[:], off)
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	line, _, _ := bytes.Cut(head[:n], []byte{'\n'})
	e, perr := parseLogLine(line)
	return perr != nil || !e.partial, nil
}
