package config

import (
	"encoding"
	"net/netip"
	"reflect"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v4"
)

// decoder walks a yaml.Node tree onto a typed value. It is strict like yaml's KnownFields:
// unknown keys, duplicate keys and wrong types are problems, and it carries on after each so
// that every problem is reported at once, with the key path and the line.
type decoder struct {
	p   *problems
	src *source
	dir string // directory secret files are relative to
}

var (
	secretType   = reflect.TypeFor[Secret]()
	unmarshalerT = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// wants names what a text-decoded type expects, for types whose own errors say too little.
var wants = map[reflect.Type]string{
	reflect.TypeFor[netip.AddrPort](): "want host:port such as 127.0.0.1:4480",
	reflect.TypeFor[netip.Prefix]():   "want a prefix such as 198.51.100.0/24",
	reflect.TypeFor[netip.Addr]():     "want an IP address such as 192.0.2.1",
	reflect.TypeFor[Duration]():       "want a duration such as 10s or 5m",
	reflect.TypeFor[Nameserver]():     "want ip or ip:port such as 192.0.2.53 or [2001:db8::53]:53",
	reflect.TypeFor[Date]():           "want a date such as 2026-01-31",
}

// defaulter is implemented by list element types that have defaults of their own: each
// element is decoded onto a value with those defaults.
type defaulter interface{ setDefaults() }

// join builds a child key path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// value decodes n onto v, which must be settable.
func (d *decoder) value(path string, n *yaml.Node, v reflect.Value) {
	n = deref(n)
	if v.CanAddr() && v.Addr().Type().Implements(unmarshalerT) {
		d.text(path, n, v)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structure(path, n, v)
	case reflect.Slice:
		d.list(path, n, v)
	case reflect.String:
		d.str(path, n, v)
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Int16, reflect.Int8:
		d.integer(path, n, v)
	case reflect.Uint, reflect.Uint64, reflect.Uint32, reflect.Uint16, reflect.Uint8:
		d.unsigned(path, n, v)
	case reflect.Float64, reflect.Float32:
		d.float(path, n, v)
	case reflect.Bool:
		d.boolean(path, n, v)
	default:
		d.p.decodeFail(n.Line, path, "cannot decode into %s (a bug in Sortie)", v.Type())
	}
}

// deref follows an alias, keeping the line where the alias is used for messages.
func deref(n *yaml.Node) *yaml.Node {
	if n.Kind != yaml.AliasNode || n.Alias == nil {
		return n
	}
	c := *n.Alias
	c.Line = n.Line
	return &c
}

// describe names the kind of a node for "got ..." messages.
func describe(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(n):
		return "nothing"
	default:
		return strconv.Quote(n.Value)
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func isScalar(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && !isNull(n) }

// text decodes a scalar through the type's UnmarshalText.
func (d *decoder) text(path string, n *yaml.Node, v reflect.Value) {
	want := wants[v.Type()]
	if !isScalar(n) {
		if want == "" {
			want = "want a value"
		}
		d.p.decodeFail(n.Line, path, "%s, got %s", want, describe(n))
		return
	}
	err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value))
	switch {
	case err == nil:
	case want != "":
		d.p.decodeFail(n.Line, path, "%s, got %q", want, n.Value)
	default:
		d.p.decodeFail(n.Line, path, "%v", err)
	}
}

func (d *decoder) str(path string, n *yaml.Node, v reflect.Value) {
	switch {
	case isNull(n):
		v.SetString("")
	case n.Kind == yaml.ScalarNode:
		v.SetString(n.Value)
	default:
		d.p.decodeFail(n.Line, path, "want a string, got %s", describe(n))
	}
}

func (d *decoder) integer(path string, n *yaml.Node, v reflect.Value) {
	if !isScalar(n) || n.ShortTag() != "!!int" {
		d.p.decodeFail(n.Line, path, "want a whole number, got %s", describe(n))
		return
	}
	i, err := strconv.ParseInt(n.Value, 0, v.Type().Bits())
	if err != nil {
		d.p.decodeFail(n.Line, path, "want a whole number that fits in %d bits, got %q", v.Type().Bits(), n.Value)
		return
	}
	v.SetInt(i)
}

func (d *decoder) unsigned(path string, n *yaml.Node, v reflect.Value) {
	if !isScalar(n) || n.ShortTag() != "!!int" {
		d.p.decodeFail(n.Line, path, "want a whole number, got %s", describe(n))
		return
	}
	u, err := strconv.ParseUint(n.Value, 0, v.Type().Bits())
	if err != nil {
		d.p.decodeFail(n.Line, path, "want a whole number from 0 to %d, got %q", uint64(1)<<v.Type().Bits()-1, n.Value)
		return
	}
	v.SetUint(u)
}

func (d *decoder) float(path string, n *yaml.Node, v reflect.Value) {
	tag := n.ShortTag()
	if !isScalar(n) || (tag != "!!int" && tag != "!!float") {
		d.p.decodeFail(n.Line, path, "want a number, got %s", describe(n))
		return
	}
	f, err := strconv.ParseFloat(n.Value, v.Type().Bits())
	if err != nil {
		d.p.decodeFail(n.Line, path, "want a number, got %q", n.Value)
		return
	}
	v.SetFloat(f)
}

func (d *decoder) boolean(path string, n *yaml.Node, v reflect.Value) {
	if !isScalar(n) || n.ShortTag() != "!!bool" {
		d.p.decodeFail(n.Line, path, "want true or false, got %s", describe(n))
		return
	}
	v.SetBool(strings.EqualFold(n.Value, "true"))
}

// list decodes a sequence into a new slice: a list in the file replaces the default list.
// An empty list (or nothing) gives a nil slice.
func (d *decoder) list(path string, n *yaml.Node, v reflect.Value) {
	if isNull(n) {
		v.SetZero()
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.p.decodeFail(n.Line, path, "want a list, got %s", describe(n))
		return
	}
	if len(n.Content) == 0 {
		v.SetZero()
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		ip := path + "[" + strconv.Itoa(i) + "]"
		d.src.lines[ip] = item.Line
		e := s.Index(i)
		if df, ok := e.Addr().Interface().(defaulter); ok {
			df.setDefaults()
		}
		d.value(ip, item, e)
	}
	v.Set(s)
}
