package parse

import "strings"

// parseKeyValues reads "Key: value" lines leniently, as X-ARF report parts and ARF
// feedback-report parts write them: key case kept as written; the value is what follows the
// first ": " (so values may hold colons), or the first ':' when no ": " is there; YAML
// document markers, comments and blank lines skipped; a line that starts with blank space
// and is not itself "Key: value" continues the previous value; quotes around a value
// removed. At most MaxFields fields.
func parseKeyValues(text string) []Field {
	text = strings.ToValidUTF8(strings.TrimPrefix(text, "\uFEFF"), "\uFFFD")
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	var fs []Field
	for line := range strings.Lines(truncate(text, maxScan)) {
		line = strings.TrimRight(line, "\n")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed == "---" || trimmed == "..." || strings.HasPrefix(trimmed, "#") {
			continue
		}
		k, v, ok := splitKeyValue(trimmed)
		if !ok {
			if indented := line[0] == ' ' || line[0] == '\t'; indented && len(fs) > 0 {
				last := &fs[len(fs)-1]
				last.Value = truncate(strings.TrimSpace(last.Value+" "+trimmed), MaxFieldValue)
			}
			continue
		}
		if !addField(&fs, k, unquote(v)) {
			break
		}
	}
	return fs
}

// splitKeyValue splits "Key: value" at the first ": " (or the first ':' when there is no
// ": "); the key must look like a field name.
func splitKeyValue(line string) (string, string, bool) {
	k, v, ok := strings.Cut(line, ": ")
	if !ok {
		if strings.HasSuffix(line, ":") {
			k, v, ok = line[:len(line)-1], "", true
		} else {
			k, v, ok = strings.Cut(line, ":")
		}
	}
	k = strings.TrimSpace(k)
	if !ok || !fieldName(k) {
		return "", "", false
	}
	return k, strings.TrimSpace(v), true
}

// fieldName reports whether k may be a field name: letters, digits, '-', '_', '.', 1 to 64.
func fieldName(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// unquote removes YAML-style quotes around a value.
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '\'' && v[len(v)-1] == '\'' || v[0] == '"' && v[len(v)-1] == '"') {
		inner := v[1 : len(v)-1]
		if v[0] == '\'' {
			return strings.ReplaceAll(inner, "''", "'")
		}
		return strings.ReplaceAll(inner, `\"`, `"`)
	}
	return v
}
