package mailbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// Kind is what a path given for import holds.
type Kind int

// The kinds Detect tells apart.
const (
	KindMaildir Kind = iota + 1 // a directory with cur/ or new/
	KindMbox                    // a file whose first line starts with "From "
	KindMessage                 // any other file: one message
)

// String names the kind for messages to the operator.
func (k Kind) String() string {
	switch k {
	case KindMaildir:
		return "Maildir"
	case KindMbox:
		return "mbox"
	case KindMessage:
		return "message"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Detect says what path holds: a directory with cur/ or new/ is a Maildir, a file whose
// first line starts with "From " an mbox, any other regular file a single message.
func Detect(path string) (Kind, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("detect: %w", err)
	}
	if fi.IsDir() {
		if IsMaildir(path) {
			return KindMaildir, nil
		}
		return 0, fmt.Errorf("detect: %s is a directory without cur/ or new/, not a Maildir", path)
	}
	f, err := OpenRegular(path)
	if err != nil {
		return 0, fmt.Errorf("detect: %w", err)
	}
	defer f.Close()
	head := make([]byte, 5)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && err != io.EOF {
		return 0, fmt.Errorf("detect: %s: %w", path, err)
	}
	if bytes.Equal(head[:n], []byte("From ")) {
		return KindMbox, nil
	}
	return KindMessage, nil
}

// OpenRegular opens path for reading, refusing anything but a regular file (a FIFO would
// block, a device would never end).
func OpenRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file (%v)", path, fi.Mode().Type())
	}
	return f, nil
}

// ReadMessage reads the single message in the file path and returns it with the file's
// modification time, or an error wrapping ErrTooLarge when it holds more than max bytes.
func ReadMessage(path string, max int64) ([]byte, time.Time, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("message: %w", err)
	}
	defer f.Close()
	raw, mod, err := readCapped(f, max)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("message %s: %w", path, err)
	}
	return raw, mod, nil
}
