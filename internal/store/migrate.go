package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrations embed.FS

// migration is one forward-only schema step: migrations/ENGINE/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(engine string) ([]migration, error) {
	dir := path.Join("migrations", engine)
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		n, rest, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(n)
		if !ok || err != nil || !strings.HasSuffix(rest, ".sql") {
			return nil, fmt.Errorf("store: migration %s: name is not NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(migrations, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: strings.TrimSuffix(rest, ".sql"), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("store: migrations of %s: version %d where %d was expected", engine, m.version, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion is the newest migration this build knows.
func SchemaVersion() int {
	ms, err := loadMigrations(SQLite)
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrate applies the migrations not applied yet, each in its own transaction with its
// record in schema_migrations. A database newer than this build is refused: forward only.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.engine)
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	current, err := s.schemaVersion(ctx)
	if err != nil {
		return err
	}
	if current > len(ms) {
		return fmt.Errorf("store: the database is at schema version %d, newer than this Sortie (%d): upgrade Sortie", current, len(ms))
	}
	if current == len(ms) {
		return nil
	}
	if s.path != "" && current > 0 {
		if err := s.backup(ctx, current); err != nil {
			return err
		}
	}
	for _, m := range ms[current:] {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if s.engine == Postgres {
				// Two processes starting at once: the second waits, then finds the work done.
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7236481)`); err != nil {
					return err
				}
				var done int
				if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.version).Scan(&done); err != nil {
					return err
				}
				if done > 0 {
					return nil
				}
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.version, m.name, unix(s.now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %04d_%s: %w", m.version, m.name, err)
		}
	}
	return nil
}

func (s *Store) schemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return int(v.Int64), nil
}

// backup copies the SQLite database, consistent, next to it before a migration:
// desk.db.vN-YYYYMMDDTHHMMSS.bak (mode 0600).
func (s *Store) backup(ctx context.Context, version int) error {
	dst := fmt.Sprintf("%s.v%d-%s.bak", s.path, version, s.now().UTC().Format("20060102T150405"))
	if _, err := s.db.ExecContext(ctx, `VACUUM INTO `+quoteLiteral(dst)); err != nil {
		return fmt.Errorf("store: backup before migrating: %w", err)
	}
	return chmodPrivate(dst)
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
