package config

import (
	"reflect"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v4"
)

// field is one key a struct accepts. A Secret field is reachable by two keys: its own and
// the same name with "_file".
type field struct {
	index int
	file  bool // the key is the *_file form of a Secret
}

// fieldsOf maps each key of struct type t to its field.
func fieldsOf(t reflect.Type) map[string]field {
	m := map[string]field{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		m[name] = field{index: i}
		if f.Type == secretType {
			m[name+"_file"] = field{index: i, file: true}
		}
	}
	return m
}

// secretKeys tracks which keys of a secret were given, to refuse both.
type secretKeys struct {
	inline, file *yaml.Node
}

// structure decodes a mapping onto a struct, key by key, keeping the values of keys the
// mapping does not name (the defaults).
func (d *decoder) structure(path string, n *yaml.Node, v reflect.Value) {
	if v.Type() == secretType {
		d.secretInline(path, n, v)
		return
	}
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.p.decodeFail(n.Line, path, "want a mapping of keys, got %s", describe(n))
		return
	}
	fields := fieldsOf(v.Type())
	seen := map[string]int{}
	secrets := map[int]*secretKeys{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		d.pair(path, k, val, v, fields, seen, secrets)
	}
	d.checkSecrets(path, v, secrets)
}

// pair decodes one key: value of a mapping.
func (d *decoder) pair(path string, k, val *yaml.Node, v reflect.Value, fields map[string]field, seen map[string]int, secrets map[int]*secretKeys) {
	if k.Kind != yaml.ScalarNode {
		d.p.decodeFail(k.Line, path, "want a plain key, got %s", describe(k))
		return
	}
	kp := join(path, k.Value)
	if first, dup := seen[k.Value]; dup {
		d.p.decodeFail(k.Line, kp, "duplicate key (first given at line %d)", first)
		return
	}
	seen[k.Value] = k.Line
	f, ok := fields[k.Value]
	if !ok {
		d.p.decodeFail(k.Line, kp, "unknown key%s", suggest(k.Value, fields))
		return
	}
	d.src.lines[kp] = k.Line
	if v.Type().Field(f.index).Type == secretType {
		sk := secrets[f.index]
		if sk == nil {
			sk = &secretKeys{}
			secrets[f.index] = sk
		}
		if f.file {
			sk.file = val
			return
		}
		sk.inline = val
	}
	d.value(kp, val, v.Field(f.index))
}

// secretInline decodes `password: value`.
func (d *decoder) secretInline(path string, n *yaml.Node, v reflect.Value) {
	switch {
	case isNull(n):
		v.Set(reflect.ValueOf(Secret{}))
	case n.Kind == yaml.ScalarNode:
		v.Set(reflect.ValueOf(NewSecret(n.Value)))
		if n.Value != "" {
			d.src.inline = append(d.src.inline, path)
		}
	default:
		d.p.decodeFail(n.Line, path, "want a string, got %s", describe(n))
	}
}

// checkSecrets refuses a secret given both ways and reads the *_file ones.
func (d *decoder) checkSecrets(path string, v reflect.Value, secrets map[int]*secretKeys) {
	for idx := range v.NumField() {
		sk := secrets[idx]
		if sk == nil || sk.file == nil {
			continue
		}
		name, _, _ := strings.Cut(v.Type().Field(idx).Tag.Get("yaml"), ",")
		kp := join(path, name)
		fp := kp + "_file"
		if sk.inline != nil {
			d.p.decodeFail(sk.file.Line, kp, "give %s or %s_file, not both", name, name)
			v.Field(idx).SetZero()
			continue
		}
		d.src.lines[kp] = sk.file.Line
		if !d.secretFile(fp, sk.file, v.Field(idx)) {
			d.p.failed[kp] = true
		}
	}
}

// secretFile reads `password_file: /path` and reports whether it could.
func (d *decoder) secretFile(path string, n *yaml.Node, v reflect.Value) bool {
	n = deref(n)
	if !isScalar(n) {
		d.p.decodeFail(n.Line, path, "want a file path, got %s", describe(n))
		return false
	}
	s, err := readSecretFile(d.dir, n.Value)
	if err != nil {
		d.p.decodeFail(n.Line, path, "%v", err)
		return false
	}
	v.Set(reflect.ValueOf(s))
	return true
}

// suggest returns ` (did you mean "x"?)` for the closest known key, or "".
func suggest(key string, fields map[string]field) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	best, bestD := "", 3
	for _, name := range names {
		if dist := editDistance(key, name); dist < bestD {
			best, bestD = name, dist
		}
	}
	if best == "" {
		return "; known keys: " + strings.Join(names, ", ")
	}
	return " (did you mean \"" + best + "\"?)"
}

// editDistance is the Levenshtein distance between two short keys (long input is cut).
func editDistance(a, b string) int {
	if len(a) > 64 {
		a = a[:64]
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
