package parse

import (
	"strconv"
	"strings"
)

// fieldList is a list of raw fields with lenient lookup.
type fieldList []Field

// normKey folds a key for comparison: lower case, without '-', '_' and blanks, so that
// "Reported-From", "reported_from" and "REPORTED-FROM" are one key.
func normKey(k string) string {
	var b strings.Builder
	b.Grow(len(k))
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '-' || c == '_' || c == ' ' || c == '\t':
		case 'A' <= c && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// get returns the first non-empty value whose key matches one of keys (compared after
// normKey), trying the keys in order.
func (fs fieldList) get(keys ...string) string {
	for _, k := range keys {
		k = normKey(k)
		for _, f := range fs {
			if f.Value != "" && normKey(f.Key) == k {
				return f.Value
			}
		}
	}
	return ""
}

// all returns every non-empty value whose key matches one of keys.
func (fs fieldList) all(keys ...string) []string {
	var out []string
	for _, f := range fs {
		nk := normKey(f.Key)
		for _, k := range keys {
			if f.Value != "" && nk == normKey(k) {
				out = append(out, f.Value)
				break
			}
		}
	}
	return out
}

// addField appends a field within the MaxFields and MaxFieldValue bounds; it reports false
// when the list is full.
func addField(fs *[]Field, key, value string) bool {
	if len(*fs) >= MaxFields {
		return false
	}
	*fs = append(*fs, Field{
		Key:   truncate(strings.ToValidUTF8(key, "\uFFFD"), 256),
		Value: truncate(strings.ToValidUTF8(value, "\uFFFD"), MaxFieldValue),
	})
	return true
}

// parsePort reads a port number written alone or with a protocol ("22", "22/tcp", "tcp/22",
// " 443 "); 0 when there is none in 1-65535.
func parsePort(s string) int {
	s = strings.TrimSpace(s)
	if a, b, ok := strings.Cut(s, "/"); ok {
		if p := parsePort(a); p > 0 {
			return p
		}
		return parsePort(b)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0
	}
	return n
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
