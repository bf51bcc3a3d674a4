package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sample stands for a configuration section added later (users, admin): the decoder and the
// secret mechanism must work for it without new code.
type sample struct {
	Port  uint16       `yaml:"port"`
	Rate  float64      `yaml:"rate"`
	On    bool         `yaml:"on"`
	Token Secret       `yaml:"token"`
	Users []sampleUser `yaml:"users"`
	Skip  string       `yaml:"-"`
}

type sampleUser struct {
	Name     string `yaml:"name"`
	Password Secret `yaml:"password"`
}

// decodeSample decodes data onto a sample and returns it with the problems.
func decodeSample(data, name string) (sample, []string, *source) {
	var s sample
	src := &source{file: name, lines: map[string]int{}}
	p := newProblems(src)
	decodeFile([]byte(data), name, reflect.ValueOf(&s).Elem(), p)
	return s, problemLines(p.err()), src
}

func TestDecodeOtherSections(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "alice", "a-pass\n", 0o600)
	name := filepath.Join(dir, "s.yaml")
	tests := []struct {
		name       string
		yaml       string
		want       sample
		wantErr    []string
		wantInline []string
	}{
		{
			name: "every kind, secrets both ways in a list",
			yaml: "port: 8080\nrate: 2.5\n'on': true\ntoken: t0k\nusers:\n  - name: alice\n    password_file: alice\n  - name: bob\n    password: b-pass\n",
			want: sample{Port: 8080, Rate: 2.5, On: true, Token: NewSecret("t0k"), Users: []sampleUser{
				{Name: "alice", Password: NewSecret("a-pass")},
				{Name: "bob", Password: NewSecret("b-pass")},
			}},
			wantInline: []string{"token", "users[1].password"},
		},
		{
			name: "integer rate",
			yaml: "rate: 3\n",
			want: sample{Rate: 3},
		},
		{
			name: "wrong kinds",
			yaml: "port: 70000\nrate: fast\n'on': maybe\nusers:\n  - name: carol\n    password: x\n    password_file: alice\n  - nam: dave\nSkip: x\n",
			wantErr: []string{
				`DIR/s.yaml:1: port: want a whole number from 0 to 65535, got "70000"`,
				`DIR/s.yaml:2: rate: want a number, got "fast"`,
				`DIR/s.yaml:3: on: want true or false, got "maybe"`,
				`DIR/s.yaml:7: users[0].password: give password or password_file, not both`,
				`DIR/s.yaml:8: users[1].nam: unknown key (did you mean "name"?)`,
				`DIR/s.yaml:9: Skip: unknown key; known keys: on, port, rate, token, token_file, users`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs, src := decodeSample(tt.yaml, name)
			for i := range errs {
				errs[i] = strings.ReplaceAll(errs[i], dir, "DIR")
			}
			if diff := cmp.Diff(tt.wantErr, errs); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
			if tt.wantErr != nil {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decoded mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantInline, src.inline); diff != "" {
				t.Errorf("inline secrets mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFieldErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		err  FieldError
		want string
	}{
		{name: "everything", err: FieldError{File: "f.yaml", Line: 3, Path: "a.b", Msg: "bad"}, want: "f.yaml:3: a.b: bad"},
		{name: "no line", err: FieldError{File: "f.yaml", Path: "a.b", Msg: "bad"}, want: "f.yaml: a.b: bad"},
		{name: "no file", err: FieldError{Line: 3, Path: "a.b", Msg: "bad"}, want: "line 3: a.b: bad"},
		{name: "no place", err: FieldError{Path: "a.b", Msg: "bad"}, want: "a.b: bad"},
		{name: "whole file", err: FieldError{File: "f.yaml", Msg: "empty"}, want: "f.yaml: empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}
