package mailbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// mboxBuffer is the line buffer of the mbox reader; longer lines are read in pieces.
const mboxBuffer = 64 << 10

// maxSeparator caps the part of a separator line kept in MboxMessage.Separator.
const maxSeparator = 256

// MboxMessage is one message of an mbox file.
type MboxMessage struct {
	// Index is the message's position in the file, counted from 1.
	Index int
	// Separator is the "From " line before the message without "From " and the line end
	// (the envelope sender and a date, by convention), at most maxSeparator bytes; empty
	// for text before the first separator.
	Separator string
	// Raw is the message without its "From " separator line, unescaped; nil when Err is
	// set.
	Raw []byte
	// Size is the message's length in bytes, also when it was over the cap.
	Size int64
	// Err wraps ErrTooLarge when the message was over the cap; the reader went on.
	Err error
}

// MboxReader streams the messages of an mbox file (mboxo or mboxrd). A message starts at a
// line beginning "From " at the start of the file or after a blank line; that separator line
// is not part of the message, and neither is the blank line before it (mbox writers add
// one after each message). In message lines, one '>' is removed from a line starting with
// ">From ", ">>From " and so on (mboxrd; mboxo escaped only ">From ", which reads the same).
// LF and CRLF line ends are both taken. Text before the first separator is a message too.
type MboxReader struct {
	br   *bufio.Reader
	max  int64
	keep bool

	index     int
	lineStart bool   // the next read begins a line
	lines     int    // lines read so far
	prevBlank bool   // the last complete line was blank
	held      []byte // a blank line not yet known to belong to the message
	sepNext   bool   // a separator was read: the next Next starts with a new message
	sep       string // the separator line of the message being read
	eof       bool

	msg  []byte
	size int64
	over bool

	skipped int64 // input bytes that are in no message: separators, escapes, held blanks
}

// NewMboxReader returns a reader of the mbox r whose messages hold at most max bytes each.
func NewMboxReader(r io.Reader, max int64) *MboxReader {
	return &MboxReader{br: bufio.NewReaderSize(r, mboxBuffer), max: max, keep: true, lineStart: true}
}

// CountMbox counts the messages of the mbox r without keeping any of them.
func CountMbox(r io.Reader) (int, error) {
	m := NewMboxReader(r, 1)
	m.keep = false
	n := 0
	for {
		_, err := m.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

// Next returns the next message, or io.EOF after the last. A message over the cap comes
// back with Err set and no Raw; other errors are the underlying reader's and end the file.
func (m *MboxReader) Next() (MboxMessage, error) {
	if m.eof {
		return MboxMessage{}, io.EOF
	}
	started := m.sepNext
	m.sepNext = false
	if !started {
		m.sep = ""
	}
	m.msg, m.size, m.over, m.held = nil, 0, false, nil
	for {
		frag, err := m.br.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) && err != io.EOF {
			return MboxMessage{}, fmt.Errorf("mbox: %w", err)
		}
		if len(frag) == 0 && err == io.EOF {
			m.eof = true
			if !started {
				return MboxMessage{}, io.EOF
			}
			return m.finish(), nil
		}
		full := frag[len(frag)-1] == '\n'
		atStart := m.lineStart
		m.lineStart = full
		if atStart && bytes.HasPrefix(frag, []byte("From ")) && (m.lines == 0 || m.prevBlank) {
			sep := separator(frag)
			if err := m.skipLine(frag, full); err != nil {
				return MboxMessage{}, err
			}
			m.prevBlank = false
			if started {
				m.sepNext = true
				msg := m.finish()
				m.sep = sep
				return msg, nil
			}
			started = true
			m.sep = sep
			continue
		}
		started = true
		if atStart {
			m.lines++
			frag = m.unescape(frag)
			m.prevBlank = full && isBlank(frag)
		} else {
			m.prevBlank = false
		}
		if m.held != nil {
			m.add(m.held)
			m.held = nil
		}
		if m.prevBlank {
			m.held = append([]byte(nil), frag...)
			continue
		}
		m.add(frag)
	}
}

// skipLine consumes the rest of a separator line whose first piece is frag.
func (m *MboxReader) skipLine(frag []byte, full bool) error {
	m.lines++
	m.skipped += int64(len(frag))
	for !full {
		rest, err := m.br.ReadSlice('\n')
		m.skipped += int64(len(rest))
		if err == io.EOF {
			return nil
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("mbox: %w", err)
		}
		full = len(rest) > 0 && rest[len(rest)-1] == '\n'
	}
	m.lineStart = true
	return nil
}

// unescape removes one '>' from a line that starts with one or more '>' then "From ".
func (m *MboxReader) unescape(line []byte) []byte {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	if i > 0 && bytes.HasPrefix(line[i:], []byte("From ")) {
		m.skipped++
		return line[1:]
	}
	return line
}

// add appends p to the current message, or only counts it once the message is over the cap.
func (m *MboxReader) add(p []byte) {
	m.size += int64(len(p))
	if m.over || !m.keep {
		return
	}
	if m.size > m.max {
		m.over, m.msg = true, nil
		return
	}
	m.msg = append(m.msg, p...)
}

// finish ends the current message; a held blank line is the separator's, not the message's.
func (m *MboxReader) finish() MboxMessage {
	m.skipped += int64(len(m.held))
	m.held = nil
	m.index++
	msg := MboxMessage{Index: m.index, Separator: m.sep, Size: m.size}
	switch {
	case m.over:
		msg.Err = fmt.Errorf("message %d of %d bytes: %w of %d bytes", m.index, m.size, ErrTooLarge, m.max)
	case m.keep:
		msg.Raw = m.msg
		if msg.Raw == nil {
			msg.Raw = []byte{}
		}
	}
	m.msg = nil
	return msg
}

// separator returns the text of a separator line after "From ", without its line end.
func separator(line []byte) string {
	s := bytes.TrimRight(line[len("From "):], "\r\n")
	if len(s) > maxSeparator {
		s = s[:maxSeparator]
	}
	return string(s)
}

func isBlank(line []byte) bool {
	return len(line) == 1 || (len(line) == 2 && line[0] == '\r')
}
