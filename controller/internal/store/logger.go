package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	gormlogger "gorm.io/gorm/logger"
)

// slowQuery is the duration past which a query is reported at Warn.
const slowQuery = 500 * time.Millisecond

// gormLogger bridges GORM's logger to slog. It passes on only warnings and
// errors, and it never logs SQL parameters, which may hold secrets such as
// key hashes or password hashes. Failed queries are not logged here: the
// store returns them to its caller, who decides.
type gormLogger struct {
	log *slog.Logger
}

func newGormLogger(log *slog.Logger) *gormLogger {
	return &gormLogger{log: log}
}

// LogMode is part of GORM's logger interface; the level is fixed at Warn.
func (l *gormLogger) LogMode(gormlogger.LogLevel) gormlogger.Interface { return l }

// Info drops GORM's informational messages.
func (l *gormLogger) Info(context.Context, string, ...any) {}

// Warn logs a GORM warning.
func (l *gormLogger) Warn(ctx context.Context, msg string, data ...any) {
	l.log.WarnContext(ctx, "gorm warning", "detail", fmt.Sprintf(msg, data...))
}

// Error logs a GORM error that GORM does not return to the caller.
func (l *gormLogger) Error(ctx context.Context, msg string, data ...any) {
	l.log.ErrorContext(ctx, "gorm error", "detail", fmt.Sprintf(msg, data...))
}

// Trace reports slow queries with their SQL text but without parameters
// (ParamsFilter removes them before GORM renders the statement).
func (l *gormLogger) Trace(
	ctx context.Context, begin time.Time, fc func() (string, int64), _ error,
) {
	elapsed := time.Since(begin)
	if elapsed < slowQuery {
		return
	}
	sql, rows := fc()
	l.log.WarnContext(ctx, "slow query",
		"duration_ms", elapsed.Milliseconds(), "rows", rows, "sql", sql)
}

// ParamsFilter drops every parameter so that rendered SQL keeps its
// placeholders and no value reaches a log line.
func (l *gormLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}
