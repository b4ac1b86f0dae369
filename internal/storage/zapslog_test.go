package storage

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"

	"go.uber.org/zap"
)

// recorder is an slog.Handler that keeps the records it receives, with the
// attributes of WithAttrs folded in.
type recorder struct {
	records *[]slog.Record
	attrs   []slog.Attr
}

func newRecorder() recorder { return recorder{records: new([]slog.Record)} }

func (r recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r recorder) Handle(_ context.Context, rec slog.Record) error {
	rec = rec.Clone()
	rec.AddAttrs(r.attrs...)
	*r.records = append(*r.records, rec)
	return nil
}
func (r recorder) WithAttrs(as []slog.Attr) slog.Handler {
	return recorder{records: r.records, attrs: append(slices.Clone(r.attrs), as...)}
}
func (r recorder) WithGroup(string) slog.Handler { return r }

func TestZapBridge(t *testing.T) {
	cases := []struct {
		name      string
		log       func(*zap.Logger)
		quiet     bool
		wantLevel slog.Level
		wantAttr  string // an attribute key that must survive, if any
		dropped   bool
	}{
		{name: "warn forwarded", log: func(l *zap.Logger) { l.Warn("disk slow", zap.Int("ms", 5)) }, wantLevel: slog.LevelWarn, wantAttr: "ms"},
		{name: "error forwarded", log: func(l *zap.Logger) { l.Error("bad") }, wantLevel: slog.LevelError},
		{name: "info dropped", log: func(l *zap.Logger) { l.Info("starting") }, dropped: true},
		{name: "benign demoted", log: func(l *zap.Logger) { l.Warn("simple token is not cryptographically signed") }, wantLevel: slog.LevelDebug},
		{name: "shutdown demoted", log: func(l *zap.Logger) { l.Error("accept failed") }, quiet: true, wantLevel: slog.LevelDebug},
		{name: "With fields kept", log: func(l *zap.Logger) { l.With(zap.String("member", "m1")).Warn("x") }, wantLevel: slog.LevelWarn, wantAttr: "member"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			quiet := new(atomic.Bool)
			quiet.Store(tc.quiet)
			tc.log(zapLogger(slog.New(rec), quiet))
			records := *rec.records
			if tc.dropped {
				if len(records) != 0 {
					t.Fatalf("got %d records, want none", len(records))
				}
				return
			}
			if len(records) != 1 {
				t.Fatalf("got %d records, want 1", len(records))
			}
			r := records[0]
			if r.Level != tc.wantLevel {
				t.Fatalf("level = %v, want %v", r.Level, tc.wantLevel)
			}
			if tc.wantAttr == "" {
				return
			}
			found := false
			r.Attrs(func(a slog.Attr) bool {
				found = found || a.Key == tc.wantAttr
				return true
			})
			if !found {
				t.Fatalf("attribute %q missing", tc.wantAttr)
			}
		})
	}
}
