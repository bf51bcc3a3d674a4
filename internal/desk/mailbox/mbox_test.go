package mailbox

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readAll returns every message of the mbox in, with "ERR" for one over the cap.
func readAll(t *testing.T, in string, max int64) []string {
	t.Helper()
	r := NewMboxReader(strings.NewReader(in), max)
	var got []string
	for i := 1; ; i++ {
		m, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if m.Index != i {
			t.Errorf("message %d has index %d", i, m.Index)
		}
		if m.Err != nil {
			if !errors.Is(m.Err, ErrTooLarge) || m.Raw != nil {
				t.Errorf("message %d: error %v with %d bytes", i, m.Err, len(m.Raw))
			}
			got = append(got, "ERR")
			continue
		}
		if int64(len(m.Raw)) != m.Size {
			t.Errorf("message %d: Size %d, %d bytes", i, m.Size, len(m.Raw))
		}
		got = append(got, string(m.Raw))
	}
	n, err := CountMbox(strings.NewReader(in))
	if err != nil || n != len(got) {
		t.Errorf("CountMbox = %d, %v; Next gave %d", n, err, len(got))
	}
	return got
}

func TestMbox(t *testing.T) {
	long := strings.Repeat("x", 3*mboxBuffer)
	tests := []struct {
		name string
		in   string
		max  int64
		want []string
	}{
		{
			name: "two mboxrd messages",
			in: "From reports@example.net Sat Jan  3 10:00:00 2026\nSubject: a\n\nbody a\n\n" +
				"From reports@example.org Sat Jan  3 11:00:00 2026\nSubject: b\n\nbody b\n\n",
			want: []string{"Subject: a\n\nbody a\n", "Subject: b\n\nbody b\n"},
		},
		{
			name: "escaped From lines lose one '>'",
			in:   "From x\nS: 1\n\n>From here\n>>From there\n>>>From away\n>Fromage\n\n",
			want: []string{"S: 1\n\nFrom here\n>From there\n>>From away\n>Fromage\n"},
		},
		{
			name: "From after a line that is not blank stays in the message",
			in:   "From x\nS: 1\n\ntext\nFrom the sender\nmore\n",
			want: []string{"S: 1\n\ntext\nFrom the sender\nmore\n"},
		},
		{
			name: "CRLF",
			in:   "From x\r\nS: 1\r\n\r\nbody\r\n\r\nFrom y\r\nS: 2\r\n\r\n>From z\r\n\r\n",
			want: []string{"S: 1\r\n\r\nbody\r\n", "S: 2\r\n\r\nFrom z\r\n"},
		},
		{
			name: "text before the first separator is a message",
			in:   "S: 0\n\nstray\n\nFrom x\nS: 1\n",
			want: []string{"S: 0\n\nstray\n", "S: 1\n"},
		},
		{
			name: "no newline at the end",
			in:   "From x\nS: 1\n\nlast line",
			want: []string{"S: 1\n\nlast line"},
		},
		{
			name: "only the one blank line before a separator is dropped",
			in:   "From x\nS: 1\n\n\n\nFrom y\nS: 2\n",
			want: []string{"S: 1\n\n\n", "S: 2\n"},
		},
		{
			name: "empty messages",
			in:   "From x\n\nFrom y\nFrom z\n",
			want: []string{"", "From z\n"},
		},
		{
			name: "oversized message in the middle, reading goes on",
			in:   "From x\nS: 1\n\nsmall\n\nFrom y\nS: 2\n\n" + strings.Repeat("big\n", 40) + "\nFrom z\nS: 3\n",
			max:  64,
			want: []string{"S: 1\n\nsmall\n", "ERR", "S: 3\n"},
		},
		{
			name: "lines longer than the buffer",
			in:   "From " + long + "\nS: 1\n\n" + long + "\n\nFrom y\n>From " + long + "\n",
			want: []string{"S: 1\n\n" + long + "\n", "From " + long + "\n"},
		},
		{name: "empty input", in: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			max := tt.max
			if max == 0 {
				max = 1 << 20
			}
			got := readAll(t, tt.in, max)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk on fire")
	}
	f.n--
	return copy(p, "From x\nS: 1\n\nbody\n\n"), nil
}

func TestMboxReadError(t *testing.T) {
	r := NewMboxReader(&failingReader{n: 1}, 1<<20)
	_, err := r.Next()
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Next = %v, want the read error", err)
	}
}

func TestMboxSeparator(t *testing.T) {
	in := "S: 0\n\nFrom reports@example.net Sat Jan  3 10:00:00 2026\r\nS: 1\n\nFrom " +
		strings.Repeat("y", 1000) + "\nS: 2\n"
	r := NewMboxReader(strings.NewReader(in), 1<<20)
	var got []string
	for {
		m, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.Separator)
	}
	want := []string{"", "reports@example.net Sat Jan  3 10:00:00 2026", strings.Repeat("y", maxSeparator)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("separators (-want +got):\n%s", diff)
	}
}
