package agent

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kube-state-push/kube-state-push/customresource"
)

// The custom resource state config (kube-state-metrics'
// --custom-resource-state-config and --custom-resource-state-config-file):
// loaded by package customresource, whose errors are one line,
// file:line:column: key: what. Given inline in the --config file (key
// custom_resource_state_config, a mapping or a string of YAML), its errors
// name the --config file and the line there.

// crsSource is where an inline config starts in the --config file: the
// config's text is the file's from line, its columns shifted by indent.
type crsSource struct {
	file   string
	line   int // the file's line of the text's first line
	indent int // columns removed from every line (0 when unknown)
}

// loadCustomResources loads the custom resource state config, if any, into
// c.customResources.
func (c *Config) loadCustomResources() error {
	c.customResources = nil
	inline, file := c.CustomResourceStateConfig, c.CustomResourceStateConfigFile
	switch {
	case inline != "" && file != "":
		return configErrorf("--custom-resource-state-config and --custom-resource-state-config-file exclude each other")
	case inline == "" && file == "":
		if c.CustomResourceStateOnly {
			return configErrorf("--custom-resource-state-only needs --custom-resource-state-config or --custom-resource-state-config-file")
		}
		return nil
	}
	name, data := "--custom-resource-state-config", []byte(inline)
	src := c.customResourceStateSource
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return configErrorf("--custom-resource-state-config-file: %w", err)
		}
		name, data, src = file, b, nil
	} else if src != nil {
		name = src.file
	}
	cfg, err := customresource.Load(name, data)
	if err != nil {
		return &ConfigError{Err: src.shift(err)}
	}
	for i, w := range cfg.Warnings {
		cfg.Warnings[i] = src.shiftWarning(name, w)
	}
	c.customResources = cfg
	return nil
}

// shift moves the position of a config error from the inline text to the
// --config file.
func (s *crsSource) shift(err error) error {
	ce, ok := errors.AsType[*customresource.ConfigError](err)
	if s == nil || !ok {
		return err
	}
	c := *ce
	if c.Line > 0 {
		c.Line += s.line - 1
		if c.Column > 0 {
			c.Column += s.indent
		}
	}
	return &c
}

var positioned = regexp.MustCompile(`^:(\d+)(?::(\d+))?: `)

// shiftWarning is shift for a warning, a positioned line.
func (s *crsSource) shiftWarning(name, w string) string {
	rest, ok := strings.CutPrefix(w, name)
	m := positioned.FindStringSubmatch(rest)
	if s == nil || !ok || m == nil {
		return w
	}
	line, _ := strconv.Atoi(m[1])
	pos := fmt.Sprintf(":%d", line+s.line-1)
	if m[2] != "" {
		col, _ := strconv.Atoi(m[2])
		pos += fmt.Sprintf(":%d", col+s.indent)
	}
	return name + pos + ": " + rest[len(m[0]):]
}

// setInlineCustomResources sets the custom_resource_state_config key of the
// --config file at path (its text data): a mapping, kept as the file's lines so
// that errors point into the file, or a string of YAML.
func setInlineCustomResources(c *Config, path string, data []byte, key, v *yaml.Node) error {
	switch {
	case v.Kind == yaml.ScalarNode:
		c.CustomResourceStateConfig = v.Value
		src := &crsSource{file: path, line: v.Line}
		if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			src.line, src.indent = blockScalarStart(data, v.Line)
		}
		c.customResourceStateSource = src
		return nil
	case v.Kind == yaml.MappingNode && v.Line > key.Line && v.Style&yaml.FlowStyle == 0:
		text, indent := blockLines(data, v.Line, v.Column)
		c.CustomResourceStateConfig = text
		c.customResourceStateSource = &crsSource{file: path, line: v.Line, indent: indent}
		return nil
	case v.Kind == yaml.MappingNode:
		out, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		c.CustomResourceStateConfig = string(out)
		c.customResourceStateSource = &crsSource{file: path, line: v.Line}
		return nil
	}
	return fmt.Errorf("want a CustomResourceStateMetrics config: a mapping, or a string of YAML")
}

// blockScalarStart returns the line of a block scalar's first non-empty line
// after its header on line header, and that line's indentation.
func blockScalarStart(data []byte, header int) (line, indent int) {
	lines := strings.Split(string(data), "\n")
	for i := header; i < len(lines); i++ { // lines[header] is the file's line header+1
		if t := strings.TrimLeft(lines[i], " "); t != "" {
			return i + 1, len(lines[i]) - len(t)
		}
	}
	return header + 1, 0
}

// blockLines returns the text of the block mapping whose first key is at
// line and column of data, with that column's indentation removed from every
// line, and the indentation removed. The block ends before the first line,
// not blank nor a comment, indented less.
func blockLines(data []byte, line, column int) (string, int) {
	indent := column - 1
	lines := strings.Split(string(data), "\n")
	var b strings.Builder
	for i := line - 1; i < len(lines); i++ {
		l := lines[i]
		t := strings.TrimLeft(l, " ")
		if i >= line && t != "" && !strings.HasPrefix(t, "#") && len(l)-len(t) < indent {
			break
		}
		if len(l)-len(t) >= indent {
			l = l[indent:]
		} else {
			l = t
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String(), indent
}
