// Package store keeps the abuse desk's data: complaint mail stored content-addressed, the
// reports and cases made of it, the spam filter's counts. One Store type over database/sql
// serves both engines: SQLite (embedded, the default, modernc.org/sqlite) and PostgreSQL
// (pgx), with forward-only migrations embedded per engine and applied at Open (after a
// backup of an existing SQLite file). One conformance suite runs against both.
//
// The store is operations, not data plane: nothing under the gateway imports it
// (internal/archtest checks).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// Engines.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// FileName is the SQLite database's name inside the data directory.
const FileName = "desk.db"

// Options say which database to open.
type Options struct {
	// DSN, when set, is a PostgreSQL connection string (postgres://... or key=value);
	// otherwise the store is the SQLite file Dir/desk.db.
	DSN string
	// Dir is the data directory for SQLite, created with mode 0700 when missing.
	Dir string
	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time
}

// Store is the desk's database. Its methods are safe for concurrent use.
type Store struct {
	db     *sql.DB
	engine string
	path   string // SQLite file, "" for PostgreSQL
	now    func() time.Time
}

// Open opens (creating when needed) and migrates the database.
func Open(ctx context.Context, o Options) (*Store, error) {
	s := &Store{now: o.Now}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	if o.DSN != "" {
		s.engine = Postgres
		s.db, err = sql.Open("pgx", o.DSN)
		if err != nil {
			return nil, fmt.Errorf("store: postgres: %w", err)
		}
		s.db.SetMaxOpenConns(8)
	} else {
		if o.Dir == "" {
			return nil, errors.New("store: no data directory and no DSN")
		}
		if err := ensurePrivateDir(o.Dir); err != nil {
			return nil, err
		}
		s.engine = SQLite
		s.path = filepath.Join(o.Dir, FileName)
		s.db, err = sql.Open("sqlite", sqliteDSN(s.path))
		if err != nil {
			return nil, fmt.Errorf("store: sqlite: %w", err)
		}
		// One writer at a time is SQLite's rule; a few connections let reads go on.
		s.db.SetMaxOpenConns(4)
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("store: %s: %w", s.engine, err)
	}
	if s.path != "" {
		if err := os.Chmod(s.path, 0o600); err != nil {
			s.db.Close()
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// sqliteDSN turns on what crash safety needs: WAL with a full sync at each commit (a commit
// that returned survives power loss), write transactions that take the lock at BEGIN (no
// deadlocked upgrades), foreign keys and a bounded wait on a busy database.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

func ensurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	return nil
}

// Engine is "sqlite" or "postgres".
func (s *Store) Engine() string { return s.engine }

// Path is the SQLite file, or "" on PostgreSQL.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// tx runs fn in a transaction, committed when fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// unix is t in Unix seconds; month its "YYYY-MM" in UTC.
func unix(t time.Time) int64   { return t.Unix() }
func month(t time.Time) string { return t.UTC().Format("2006-01") }

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func chmodPrivate(path string) error {
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}
