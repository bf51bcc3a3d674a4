package parse

import (
	"bytes"
	"encoding/json"
	"strconv"
)

const (
	maxJSONDepth  = 32
	maxJSONTokens = 1 << 16
)

// flattenJSON reads a JSON object into fields in document order, one per scalar, keyed by
// its path ("reporter.org", "evidence[0].payload"). Numbers keep their spelling, null is
// empty. It reads up to the first syntax error, MaxFields fields, maxJSONDepth levels or
// maxJSONTokens tokens, and reports false when data does not start with an object.
func flattenJSON(data []byte) ([]Field, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	type frame struct {
		path  string
		array bool
		index int
	}
	stack := []frame{{}}
	var fs []Field
	key := ""
	expectKey := true
	for n := 0; n < maxJSONTokens && len(stack) > 0; n++ {
		t, err := dec.Token()
		if err != nil {
			break
		}
		top := &stack[len(stack)-1]
		if !top.array && expectKey {
			if d, ok := t.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				expectKey = len(stack) > 0 && !stack[len(stack)-1].array
				continue
			}
			s, _ := t.(string)
			key = s
			expectKey = false
			continue
		}
		var path string
		if top.array {
			path = top.path + "[" + strconv.Itoa(top.index) + "]"
		} else {
			path = key
			if top.path != "" {
				path = top.path + "." + key
			}
		}
		switch v := t.(type) {
		case json.Delim:
			if v == ']' || v == '}' {
				stack = stack[:len(stack)-1]
				expectKey = len(stack) > 0 && !stack[len(stack)-1].array
				continue
			}
			if top.array {
				top.index++
			}
			if len(stack) >= maxJSONDepth {
				return fs, true
			}
			stack = append(stack, frame{path: path, array: v == '['})
			expectKey = v == '{'
			continue
		case string:
			if !addField(&fs, path, v) {
				return fs, true
			}
		case json.Number:
			if !addField(&fs, path, v.String()) {
				return fs, true
			}
		case bool:
			if !addField(&fs, path, strconv.FormatBool(v)) {
				return fs, true
			}
		case nil:
			if !addField(&fs, path, "") {
				return fs, true
			}
		}
		if top.array {
			top.index++
		} else {
			expectKey = true
		}
	}
	return fs, true
}
