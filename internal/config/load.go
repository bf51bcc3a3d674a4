package config

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"

	yaml "go.yaml.in/yaml/v4"
)

//go:embed default.yaml
var defaultYAML []byte

// maxFileBytes caps the size of a configuration file.
const maxFileBytes = 4 << 20

// Default returns the default configuration: the embedded default.yaml, decoded. Each call
// returns a new Config the caller may change.
func Default() *Config {
	c := &Config{}
	p := c.decode(defaultYAML, "default.yaml")
	if err := p.err(); err != nil {
		panic(fmt.Sprintf("config: the embedded default.yaml is invalid: %v", err))
	}
	c.fillDefaults()
	c.src = nil
	return c
}

// DefaultYAML returns the embedded default configuration file, comments included.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// Parse decodes a configuration file's contents onto the defaults and validates the result.
// name is used in messages and to find *_file secrets given with a relative path (from the
// directory of name). The error joins every problem found, each a *FieldError.
func Parse(data []byte, name string) (*Config, error) {
	c := Default()
	p := c.decode(data, name)
	c.fillDefaults()
	c.loadIncludes(p)
	c.loadUsersFile(p)
	c.validate(p)
	if err := p.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// Load reads and parses the configuration file at path. The warnings are for the operator
// (for example a file holding a secret that others may read); they do not stop the load.
func Load(path string) (*Config, []string, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, nil, err
	}
	c, err := Parse(data, path)
	if err != nil {
		return nil, nil, err
	}
	return c, c.permissionWarnings(path), nil
}

func readConfigFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read config: %s is not a regular file", path)
	}
	if fi.Size() > maxFileBytes {
		return nil, fmt.Errorf("read config: %s is larger than %d bytes", path, maxFileBytes)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return data, nil
}

// permissionWarnings warns when secrets are inline in a file that group or others may read.
func (c *Config) permissionWarnings(path string) []string {
	if c.src == nil || len(c.src.inline) == 0 {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return []string{fmt.Sprintf(
		"%s holds a secret inline (%s) and other users may read it (mode %04o): run chmod 600 %s, or give the secret as %s_file",
		path, c.src.inline[0], fi.Mode().Perm(), path, c.src.inline[0])}
}

// decode parses data and decodes it onto c, recording lines in c.src. It returns the
// problems found so far, for validation to add to.
func (c *Config) decode(data []byte, name string) *problems {
	c.src = &source{file: name, lines: map[string]int{}}
	p := newProblems(c.src)
	root, ok := decodeFile(data, name, reflect.ValueOf(c).Elem(), p)
	if ok && !c.src.has("version") {
		p.decodeFail(root.Line, "version", "missing: the file must start with version: 1")
	}
	return p
}

// decodeFile parses data (the contents of the file name) and decodes its top mapping onto
// out, recording problems in p and key lines in p.src. It returns the top mapping, and
// false when the file could not be parsed at all.
func decodeFile(data []byte, name string, out reflect.Value, p *problems) (*yaml.Node, bool) {
	root, ok := parseRoot(data, p)
	if !ok {
		return nil, false
	}
	d := &decoder{p: p, src: p.src, dir: filepath.Dir(name)}
	d.value("", root, out)
	return root, true
}

// parseRoot parses one YAML document and returns its top mapping.
func parseRoot(data []byte, p *problems) (*yaml.Node, bool) {
	var doc yaml.Node
	err := yaml.Load(data, &doc)
	if err != nil {
		line, msg := yamlProblem(err)
		p.decodeFail(line, "", "%s", msg)
		return nil, false
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		p.decodeFail(1, "", "want one YAML document starting with version: 1")
		return nil, false
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.decodeFail(root.Line, "", "want a mapping of keys starting with version: 1, got %s", describe(root))
		return nil, false
	}
	return root, true
}

// yamlProblem turns a yaml syntax error into a line and a message without the library's
// prefixes.
func yamlProblem(err error) (int, string) {
	var le *yaml.LoadError
	if !errors.As(err, &le) {
		return 0, fmt.Sprintf("not valid YAML: %v", err)
	}
	switch le.Message {
	case "yaml: no documents in stream":
		return 0, "empty: the file must start with version: 1"
	case "yaml: expected single document, found multiple":
		return 0, "want one YAML document, found several (remove the --- separators)"
	}
	msg := "not valid YAML: " + le.Message
	if le.ContextMsg != "" {
		msg += " (" + le.ContextMsg + ")"
	}
	return le.Mark.Line, msg
}
