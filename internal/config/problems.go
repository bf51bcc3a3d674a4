package config

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// maxProblems caps how many problems one load reports; the rest are counted.
const maxProblems = 50

// FieldError is one problem in a configuration: the file and line when known, the key path
// (such as listeners[0].address) and what is wrong. Load, Parse and Validate return an
// errors.Join of FieldErrors, one per problem.
type FieldError struct {
	File string // configuration file name; empty for a Config built in code
	Line int    // 1-based line; 0 when unknown
	Path string // key path such as gateway.max_connections; empty for the whole file
	Msg  string // what is wrong and what is wanted
}

// Error returns "FILE:LINE: path: message", leaving out the parts that are unknown.
func (e *FieldError) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		b.WriteString(e.File + ":" + strconv.Itoa(e.Line) + ": ")
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// source records where a Config came from: the file, the line of every key path seen and the
// secrets given inline (which make a readable file a warning).
type source struct {
	file   string
	lines  map[string]int
	inline []string
}

// line returns the line of path, else of its nearest ancestor present, else 0.
func (s *source) line(path string) int {
	if s == nil {
		return 0
	}
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := s.lines[p]; ok {
			return l
		}
	}
	return 0
}

// path resolves a file name written in the configuration: relative names are taken from the
// configuration file's directory.
func (s *source) path(name string) string {
	if s == nil || s.file == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(s.file), name)
}

// has reports whether path was written in the file.
func (s *source) has(path string) bool {
	if s == nil {
		return false
	}
	_, ok := s.lines[path]
	return ok
}

// parentPath cuts the last element of a key path: "a.b[2]" -> "a.b", "a.b" -> "a".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// problems collects every problem of one load or validation.
type problems struct {
	src    *source
	errs   []error
	extra  int
	failed map[string]bool // paths that failed to decode: validation skips them
}

func newProblems(src *source) *problems {
	return &problems{src: src, failed: map[string]bool{}}
}

// at records a problem at an explicit line.
func (p *problems) at(line int, path, format string, args ...any) {
	if len(p.errs) >= maxProblems {
		p.extra++
		return
	}
	e := &FieldError{Line: line, Path: path, Msg: fmt.Sprintf(format, args...)}
	if p.src != nil {
		e.File = p.src.file
	}
	p.errs = append(p.errs, e)
}

// decodeFail records a decoding problem and marks path so validation stays quiet about it.
func (p *problems) decodeFail(line int, path, format string, args ...any) {
	p.failed[path] = true
	p.at(line, path, format, args...)
}

// add records a validation problem, placed at the line of path (or its nearest ancestor).
func (p *problems) add(path, format string, args ...any) {
	for q := path; q != ""; q = parentPath(q) {
		if p.failed[q] {
			return
		}
	}
	p.at(p.src.line(path), path, format, args...)
}

// err returns every problem joined, in line order, or nil.
func (p *problems) err() error {
	slices.SortStableFunc(p.errs, func(a, b error) int {
		return cmp.Compare(a.(*FieldError).Line, b.(*FieldError).Line)
	})
	errs := p.errs
	if p.extra > 0 {
		errs = append(errs[:len(errs):len(errs)], fmt.Errorf("and %d more problems", p.extra))
	}
	return errors.Join(errs...)
}
