package storage

import (
	"context"
	"log/slog"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// etcd logs through zap. Only warnings and worse are forwarded: etcd's info
// level narrates every start step, which would drown the server's own log.
const minZapLevel = zapcore.WarnLevel

// benign lists etcd warnings that say nothing actionable about how navarch
// runs it (one port for gRPC and HTTP, no auth tokens, a schema check that
// fails harmlessly on a brand-new data dir); they are logged at debug level.
var benign = map[string]bool{
	"Running http and grpc server on single port. This is not recommended for production.": true,
	"simple token is not cryptographically signed":                                         true,
	"Failed to detect schema version":                                                      true,
	"failed to update storage version":                                                     true,
}

// zapLogger adapts an slog.Logger for etcd; nil yields a no-op logger.
// While quiet is set (during shutdown, when etcd reports its own closed
// listeners as errors) everything goes to debug level.
func zapLogger(l *slog.Logger, quiet *atomic.Bool) *zap.Logger {
	if l == nil {
		return zap.NewNop()
	}
	if quiet == nil {
		quiet = new(atomic.Bool)
	}
	return zap.New(&slogCore{l: l.With("component", "etcd"), quiet: quiet})
}

// slogCore is a zapcore.Core that writes to slog.
type slogCore struct {
	l     *slog.Logger
	quiet *atomic.Bool
}

func (c *slogCore) Enabled(lvl zapcore.Level) bool { return lvl >= minZapLevel }

func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	return &slogCore{l: c.l.With(attrs(fields)...), quiet: c.quiet}
}

func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	lvl := slogLevel(e.Level)
	if c.quiet.Load() || benign[e.Message] {
		lvl = slog.LevelDebug
	}
	if c.l.Enabled(context.Background(), lvl) {
		c.l.Log(context.Background(), lvl, e.Message, attrs(fields)...)
	}
	return nil
}

func (c *slogCore) Sync() error { return nil }

func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l >= zapcore.ErrorLevel:
		return slog.LevelError
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	case l == zapcore.InfoLevel:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// attrs renders zap fields through zap's own map encoder, which knows every
// field type, and hands the results to slog.
func attrs(fields []zapcore.Field) []any {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	out := make([]any, 0, 2*len(enc.Fields))
	for k, v := range enc.Fields {
		out = append(out, slog.Any(k, v))
	}
	return out
}
