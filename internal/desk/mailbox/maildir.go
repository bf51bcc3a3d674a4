package mailbox

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// The Maildir subdirectories messages are read from.
const (
	New = "new" // delivered, not yet seen by any reader
	Cur = "cur" // seen
)

// readDirChunk is how many directory entries are read at a time.
const readDirChunk = 256

// Maildir is an open Maildir directory. Its methods are safe for concurrent use.
type Maildir struct {
	dir  string
	root *os.Root
}

// OpenMaildir opens the Maildir dir, which must hold new/ or cur/. Every file the Maildir
// opens afterwards is opened through an os.Root on dir.
func OpenMaildir(dir string) (*Maildir, error) {
	if !IsMaildir(dir) {
		return nil, fmt.Errorf("maildir %s: no cur/ or new/ directory", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("maildir: %w", err)
	}
	return &Maildir{dir: dir, root: root}, nil
}

// IsMaildir reports whether dir is a directory holding new/ or cur/.
func IsMaildir(dir string) bool {
	for _, sub := range []string{New, Cur} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err == nil && fi.IsDir() {
			return true
		}
	}
	return false
}

// Dir returns the directory as given to OpenMaildir.
func (m *Maildir) Dir() string { return m.dir }

// Close releases the directory.
func (m *Maildir) Close() error { return m.root.Close() }

// Names yields the message names in sub (New or Cur) in directory order: regular files only,
// dotfiles and anything that is not a valid name skipped. A missing sub yields nothing. It
// reads the directory in chunks, so a large directory costs little memory.
func (m *Maildir) Names(sub string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := checkSub(sub); err != nil {
			yield("", err)
			return
		}
		d, err := m.root.Open(sub)
		if errors.Is(err, fs.ErrNotExist) {
			return
		}
		if err != nil {
			yield("", fmt.Errorf("maildir %s: %w", m.dir, err))
			return
		}
		defer d.Close()
		for {
			entries, err := d.ReadDir(readDirChunk)
			for _, e := range entries {
				if ValidName(e.Name()) && e.Type().IsRegular() && !yield(e.Name(), nil) {
					return
				}
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				yield("", fmt.Errorf("maildir %s: read %s/: %w", m.dir, sub, err))
				return
			}
		}
	}
}

// List returns up to max message names of sub in ASCII order, which is delivery order for
// the usual "time.unique.host" names.
func (m *Maildir) List(sub string, max int) ([]string, error) {
	if max <= 0 {
		return nil, fmt.Errorf("maildir: list limit %d must be positive", max)
	}
	// Keep the max smallest names in a max-heap: the oldest mail goes first.
	h := &nameHeap{}
	for name, err := range m.Names(sub) {
		if err != nil {
			return nil, err
		}
		switch {
		case h.Len() < max:
			heap.Push(h, name)
		case name < (*h)[0]:
			(*h)[0] = name
			heap.Fix(h, 0)
		}
	}
	names := []string(*h)
	slices.Sort(names)
	return names, nil
}

// nameHeap is a max-heap of names.
type nameHeap []string

func (h nameHeap) Len() int           { return len(h) }
func (h nameHeap) Less(i, j int) bool { return h[i] > h[j] }
func (h nameHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nameHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *nameHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Count returns the number of message names in sub.
func (m *Maildir) Count(sub string) (int, error) {
	n := 0
	for _, err := range m.Names(sub) {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Read returns the message sub/name and its modification time (when it was delivered), or
// an error wrapping ErrTooLarge when it holds more than max bytes.
func (m *Maildir) Read(sub, name string, max int64) ([]byte, time.Time, error) {
	if err := checkSub(sub); err != nil {
		return nil, time.Time{}, err
	}
	if !ValidName(name) {
		return nil, time.Time{}, fmt.Errorf("maildir %s: invalid message name %q", m.dir, name)
	}
	// O_NONBLOCK: a FIFO planted in the directory must not block the open.
	f, err := m.root.OpenFile(sub+"/"+name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("maildir %s: %w", m.dir, err)
	}
	defer f.Close()
	raw, mod, err := readCapped(f, max)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("maildir %s: %s/%s: %w", m.dir, sub, name, err)
	}
	return raw, mod, nil
}

// MarkSeen moves new/name to cur/ under SeenName(name), in one rename: atomic, so the
// message is in exactly one of the two places at any moment. It returns the new name.
func (m *Maildir) MarkSeen(name string) (string, error) {
	if !ValidName(name) {
		return "", fmt.Errorf("maildir %s: invalid message name %q", m.dir, name)
	}
	seen := SeenName(name)
	if err := m.root.Rename(New+"/"+name, Cur+"/"+seen); err != nil {
		return "", fmt.Errorf("maildir %s: mark %s seen: %w", m.dir, name, err)
	}
	return seen, nil
}

func checkSub(sub string) error {
	if sub != New && sub != Cur {
		return fmt.Errorf("maildir: subdirectory %q is neither %q nor %q", sub, New, Cur)
	}
	return nil
}

// readCapped reads a regular file of at most max bytes and returns it with its
// modification time.
func readCapped(f *os.File, max int64) ([]byte, time.Time, error) {
	if max <= 0 {
		return nil, time.Time{}, fmt.Errorf("size cap %d must be positive", max)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, time.Time{}, err
	}
	if !fi.Mode().IsRegular() {
		return nil, time.Time{}, fmt.Errorf("not a regular file (%v)", fi.Mode().Type())
	}
	if fi.Size() > max {
		return nil, time.Time{}, fmt.Errorf("%d bytes: %w of %d bytes", fi.Size(), ErrTooLarge, max)
	}
	raw, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, time.Time{}, err
	}
	if int64(len(raw)) > max {
		return nil, time.Time{}, fmt.Errorf("grew while read: %w of %d bytes", ErrTooLarge, max)
	}
	return raw, fi.ModTime(), nil
}
