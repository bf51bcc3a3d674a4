package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// pgDSN is where the PostgreSQL tests find a server: $SORTIE_TEST_POSTGRES, else the local
// server's socket as the current user (what .ci/run sets up).
func pgDSN() string {
	if d := os.Getenv("SORTIE_TEST_POSTGRES"); d != "" {
		return d
	}
	return "host=/var/run/postgresql dbname=postgres"
}

var pgSeq atomic.Int64

// clock is a settable test clock.
type clock struct{ t atomic.Int64 }

func newClock(t time.Time) *clock    { c := &clock{}; c.t.Store(t.Unix()); return c }
func (c *clock) Now() time.Time      { return time.Unix(c.t.Load(), 0).UTC() }
func (c *clock) Add(d time.Duration) { c.t.Add(int64(d / time.Second)) }

// engine opens a fresh, empty store of one engine for a test.
type engine struct {
	name string
	open func(t *testing.T, now func() time.Time) *Store
}

func engines() []engine {
	return []engine{
		{SQLite, func(t *testing.T, now func() time.Time) *Store {
			s, err := Open(context.Background(), Options{Dir: t.TempDir() + "/data", Now: now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
		{Postgres, openPostgres},
	}
}

// openPostgres creates a database of its own for the test and drops it afterwards. Without
// a server the test is skipped, unless CI=true: then it fails.
func openPostgres(t *testing.T, now func() time.Time) *Store {
	t.Helper()
	ctx := context.Background()
	admin, err := sql.Open("pgx", pgDSN())
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %q: %v (CI must start it)", pgDSN(), err)
		}
		t.Skipf("no PostgreSQL at %q: %v (set SORTIE_TEST_POSTGRES)", pgDSN(), err)
	}
	name := fmt.Sprintf("sortie_test_%d_%d", os.Getpid(), pgSeq.Add(1))
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, Options{DSN: pgDSN() + " dbname=" + name, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	})
	return s
}

// forEachEngine runs the conformance test fn against SQLite and PostgreSQL.
func forEachEngine(t *testing.T, fn func(t *testing.T, s *Store, c *clock)) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			c := newClock(time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC))
			s := e.open(t, c.Now)
			if s.Engine() != e.name {
				t.Fatalf("engine %q, want %q", s.Engine(), e.name)
			}
			fn(t, s, c)
		})
	}
}
