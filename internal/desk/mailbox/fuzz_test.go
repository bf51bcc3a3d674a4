package mailbox

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// writeMboxrd writes messages as an mboxrd file: a separator line, the message with its
// ">*From " lines escaped, and a blank line after every message that is empty or ends with
// a newline.
func writeMboxrd(msgs [][]byte) []byte {
	var b bytes.Buffer
	for _, m := range msgs {
		b.WriteString("From fuzz@example.org Thu Jan  1 00:00:00 1970\n")
		for line := range bytes.Lines(m) {
			if bytes.HasPrefix(bytes.TrimLeft(line, ">"), []byte("From ")) {
				b.WriteByte('>')
			}
			b.Write(line)
		}
		if len(m) == 0 || bytes.HasSuffix(m, []byte("\n")) {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// FuzzMbox checks the splitter: no panic, every message within the cap, every input byte
// either in a message or accounted for as separator, escape or dropped blank line, and
// writing the messages back as mboxrd reads back the same messages.
func FuzzMbox(f *testing.F) {
	f.Add([]byte("From x\nS: 1\n\n>From a\n\nFrom y\nS: 2\n"), uint16(100))
	f.Add([]byte("From x\r\nS: 1\r\n\r\nbody\r\n\r\nFrom y\r\n>>From z\r\n"), uint16(8))
	f.Add([]byte("stray\n\nFrom \n\n\nFrom \nFrom \n"), uint16(3))
	f.Add([]byte(">From x\n\n>>>From y"), uint16(1000))
	f.Fuzz(func(t *testing.T, in []byte, capBytes uint16) {
		max := int64(capBytes) + 1
		r := NewMboxReader(bytes.NewReader(in), max)
		var msgs [][]byte
		var sizes int64
		complete := true
		for n := 0; ; n++ {
			if n > len(in)+1 {
				t.Fatalf("more messages than input bytes")
			}
			m, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			sizes += m.Size
			if int64(len(m.Raw)) > max {
				t.Fatalf("message %d of %d bytes over the cap %d", m.Index, len(m.Raw), max)
			}
			if m.Err != nil {
				complete = false
				continue
			}
			if int64(len(m.Raw)) != m.Size {
				t.Fatalf("message %d: Size %d, %d bytes", m.Index, m.Size, len(m.Raw))
			}
			msgs = append(msgs, m.Raw)
		}
		if sizes+r.skipped != int64(len(in)) {
			t.Fatalf("messages %d + skipped %d bytes != input %d bytes", sizes, r.skipped, len(in))
		}
		if n, err := CountMbox(bytes.NewReader(in)); err != nil || n != r.index {
			t.Fatalf("CountMbox = %d, %v; Next gave %d", n, err, r.index)
		}
		if !complete || strings.Contains(string(in), strings.Repeat(">", mboxBuffer/2)) {
			return // a message was dropped, or an escape run may straddle the line buffer
		}
		again := NewMboxReader(bytes.NewReader(writeMboxrd(msgs)), max)
		for i, want := range msgs {
			m, err := again.Next()
			if err != nil || m.Err != nil || !bytes.Equal(m.Raw, want) {
				t.Fatalf("round trip message %d: %q, %v, %v; want %q", i+1, m.Raw, err, m.Err, want)
			}
		}
		if m, err := again.Next(); err != io.EOF {
			t.Fatalf("round trip gave an extra message %q, %v", m.Raw, err)
		}
	})
}

// FuzzMaildirName checks the name functions: the unique part never holds the info, marking
// seen keeps the unique part, adds S and is idempotent.
func FuzzMaildirName(f *testing.F) {
	for _, s := range []string{"1700000000.M1P2.host", "u:2,RF", "u:1,x", ":", "a:b:c", ".x", "a/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		u := Unique(name)
		if strings.Contains(u, ":") || !strings.HasPrefix(name, u) {
			t.Fatalf("Unique(%q) = %q", name, u)
		}
		seen := SeenName(name)
		if Unique(seen) != u {
			t.Fatalf("Unique(SeenName(%q)) = %q, want %q", name, Unique(seen), u)
		}
		if !strings.HasPrefix(seen, u+":2,") || !strings.Contains(seen[len(u)+3:], "S") {
			t.Fatalf("SeenName(%q) = %q", name, seen)
		}
		if SeenName(seen) != seen {
			t.Fatalf("SeenName not idempotent: %q then %q", seen, SeenName(seen))
		}
		if ValidName(name) && (name[0] == '.' || strings.ContainsAny(name, "/\x00") || len(name) > 255) {
			t.Fatalf("ValidName(%q) true", name)
		}
	})
}
