package streaming

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseLogLine(t *testing.T) {
	ts := time.Date(2016, 10, 6, 0, 17, 9, 669794202, time.UTC)
	cases := []struct {
		line    string
		want    logEntry
		wantErr bool
	}{
		{line: "2016-10-06T00:17:09.669794202Z stdout F hello world", want: logEntry{ts: ts, stream: "stdout", content: []byte("hello world")}},
		{line: "2016-10-06T00:17:09.669794202Z stderr P part", want: logEntry{ts: ts, stream: "stderr", partial: true, content: []byte("part")}},
		{line: "2016-10-06T00:17:09.669794202Z stdout F ", want: logEntry{ts: ts, stream: "stdout", content: []byte("")}},
		{line: "2016-10-06T00:17:09.669794202Z stdout F", want: logEntry{ts: ts, stream: "stdout"}},
		{line: "2016-10-06T00:17:09.669794202Z stdout F:x  two  spaces ", want: logEntry{ts: ts, stream: "stdout", content: []byte(" two  spaces ")}},
		{line: "2016-10-06T02:17:09.669794202+02:00 stdout F tz", want: logEntry{ts: ts, stream: "stdout", content: []byte("tz")}},
		{line: "garbage", wantErr: true},
		{line: "not-a-time stdout F x", wantErr: true},
		{line: "2016-10-06T00:17:09.669794202Z stdin F x", wantErr: true},
		{line: "2016-10-06T00:17:09.669794202Z stdout X x", wantErr: true},
		{line: "2016-10-06T00:17:09.669794202Z stdout", wantErr: true},
	}
	for _, c := range cases {
		got, err := parseLogLine([]byte(c.line))
		if c.wantErr {
			if !errors.Is(err, errBadLogLine) {
				t.Errorf("%q: err = %v, want errBadLogLine", c.line, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.line, err)
			continue
		}
		if !got.ts.Equal(c.want.ts) || got.stream != c.want.stream || got.partial != c.want.partial || !bytes.Equal(got.content, c.want.content) {
			t.Errorf("%q: got %+v, want %+v", c.line, got, c.want)
		}
	}
}

// logFile builds a CRI log from "stream tag content" lines, one second
// apart from t0.
func logFile(lines ...string) string {
	var b strings.Builder
	for i, l := range lines {
		b.WriteString(t0.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano))
		b.WriteString(" ")
		b.WriteString(l)
		b.WriteString("\n")
	}
	return b.String()
}

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func render(t *testing.T, log string, o logOptions) string {
	t.Helper()
	var out bytes.Buffer
	lr := &logReader{opts: o, out: newLogWriter(&out, o)}
	for _, line := range strings.SplitAfter(log, "\n") {
		if !strings.HasSuffix(line, "\n") {
			continue
		}
		if err := lr.emit([]byte(strings.TrimSuffix(line, "\n"))); err != nil {
			if errors.Is(err, errLimitReached) {
				break
			}
			t.Fatal(err)
		}
	}
	return out.String()
}

func TestLogWriter(t *testing.T) {
	log := logFile("stdout F one", "stderr F err", "stdout P tw", "stdout P o-", "stdout F two", "stdout F three")
	ts := func(i int) string { return t0.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano) }
	cases := []struct {
		name string
		opts logOptions
		want string
	}{
		{"plain joins fragments", logOptions{tail: -1}, "one\nerr\ntwo-two\nthree\n"},
		{"timestamps only at line starts", logOptions{tail: -1, timestamps: true},
			ts(0) + " one\n" + ts(1) + " err\n" + ts(2) + " two-two\n" + ts(5) + " three\n"},
		{"since drops earlier entries", logOptions{tail: -1, since: t0.Add(4 * time.Second)}, "two\nthree\n"},
		{"limit cuts mid-line", logOptions{tail: -1, limit: 6}, "one\ner"},
		{"limit exactly at a line end", logOptions{tail: -1, limit: 4}, "one\n"},
		{"stdout only", logOptions{tail: -1, stream: "stdout"}, "one\ntwo-two\nthree\n"},
		{"stderr only", logOptions{tail: -1, stream: "stderr"}, "err\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := render(t, log, c.opts); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestTailOffset(t *testing.T) {
	log := logFile("stdout F a", "stdout P b1", "stdout F b2", "stderr F c", "stdout P d")
	cases := []struct {
		n    int64
		want string
	}{
		{0, ""},
		{1, "d"},
		{2, "c\nd"},
		{3, "b1b2\nc\nd"},
		{4, "a\nb1b2\nc\nd"},
		{10, "a\nb1b2\nc\nd"},
	}
	for _, c := range cases {
		off, err := tailOffset(strings.NewReader(log), int64(len(log)), c.n)
		if err != nil {
			t.Fatal(err)
		}
		if got := render(t, log[off:], logOptions{tail: -1}); got != c.want {
			t.Errorf("tail %d: got %q, want %q", c.n, got, c.want)
		}
	}
	// Bytes after the last newline are an entry still being written.
	torn := logFile("stdout F a", "stdout F b") + t0.Format(time.RFC3339Nano) + " stdout F c"
	off, err := tailOffset(strings.NewReader(torn), int64(len(torn)), 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := render(t, torn[off:], logOptions{tail: -1}); got != "b\n" {
		t.Errorf("torn tail: got %q", got)
	}
}

func TestTailOffsetLargeFile(t *testing.T) {
	// Lines spanning the 32 KiB read chunks.
	var lines []string
	for i := range 3000 {
		lines = append(lines, "stdout F "+strings.Repeat("x", i%50)+"|")
	}
	log := logFile(lines...)
	off, err := tailOffset(strings.NewReader(log), int64(len(log)), 2500)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Count(render(t, log[off:], logOptions{tail: -1}), "\n")
	if got != 2500 {
		t.Errorf("got %d lines, want 2500", got)
	}
}
