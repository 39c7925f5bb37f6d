package customresource

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The config is read as KSM v2.20 reads it: the first YAML document, decoded
// by yaml.v3 into its structs, so the same values are accepted with the same
// types (errorLogV: 5.0 is 5, nilIsZero: yes is true), unknown keys ignored
// and kind not checked; the type is case-insensitive. What KSM accepts but
// ignores becomes a warning; what makes it fail (a decoding error, an unknown
// type, a type without its block, a bad "[key=value]") an error that names
// the file position and the key.

// ConfigError is a config error at a position of the file.
type ConfigError struct {
	File         string
	Line, Column int // 0 when unknown
	Key          string
	Msg          string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(oneLine.Replace(e.Key))
		b.WriteString(": ")
	}
	b.WriteString(oneLine.Replace(e.Msg))
	return b.String()
}

// oneLine escapes the line breaks a key or value from the file may hold.
var oneLine = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\u2028", `\u2028`, "\u2029", `\u2029`, "\u0085", `\u0085`)

// Load reads a CustomResourceStateMetrics config; name is the file's name in
// errors and warnings. The error is one line: file:line:column: key: what.
func Load(name string, data []byte) (*Config, error) {
	l := &loader{file: name}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ConfigError{File: name, Msg: "empty config: no YAML document"}
		}
		return nil, l.syntaxError(err)
	}
	var next yaml.Node
	if dec.Decode(&next) == nil {
		l.warn(&next, "", "only the first YAML document is read, as KSM does")
	}
	cfg := &Config{}
	if err := l.root(&doc, cfg); err != nil {
		return nil, err
	}
	cfg.Warnings = l.warnings
	return cfg, nil
}

// loader walks the YAML nodes, keeping positions for errors and warnings.
type loader struct {
	file     string
	warnings []string
	// aliases counts the aliases followed: a config of nested aliases can
	// expand exponentially, as yaml.v3 guards against in its decoder.
	aliases int
}

// maxAliases bounds the aliases a config may follow.
const maxAliases = 10000

// follow resolves n's aliases, counting them; the error is a config that
// follows too many.
func (l *loader) follow(n *yaml.Node, at string) (*yaml.Node, error) {
	if n != nil && n.Kind == yaml.AliasNode {
		if l.aliases++; l.aliases > maxAliases {
			return nil, l.errAt(n, at, "more than %d aliases followed", maxAliases)
		}
	}
	return resolve(n), nil
}

func (l *loader) errAt(n *yaml.Node, key, format string, args ...any) error {
	e := &ConfigError{File: l.file, Key: key, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

func (l *loader) warn(n *yaml.Node, key, format string, args ...any) {
	l.warnings = append(l.warnings, l.errAt(n, key, format, args...).Error())
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// syntaxError is a YAML parse error on one line, at its line when given.
func (l *loader) syntaxError(err error) error {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	e := &ConfigError{File: l.file, Msg: strings.TrimPrefix(msg, "yaml: ")}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = msg[len(m[0]):]
	}
	return e
}

// decodeError is a yaml.v3 decoding error of one value, without its line
// (the position says it) and on one line.
func decodeError(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		err = errors.New(te.Errors[0])
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return msg[len(m[0]):]
	}
	return strings.TrimPrefix(msg, "yaml: ")
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// pair is one key and value of a mapping.
type pair struct{ key, val *yaml.Node }

// pairs returns a mapping's pairs as yaml.v3 decodes them into a struct:
// its own keys, then those merge keys ("<<") bring that it does not have
// (of several merged mappings, the first with a key wins). A key repeated in
// the mapping itself is an error, as in yaml.v3.
func (l *loader) pairs(n *yaml.Node, at string, depth int) ([]pair, error) {
	var merges []*yaml.Node
	var out []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if prev, ok := seen[k.Value]; ok && prev.Kind == k.Kind {
			return nil, l.errAt(k, join(at, k.Value), "mapping key %q already defined at line %d", k.Value, prev.Line)
		}
		seen[k.Value] = k
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		out = append(out, pair{k, v})
	}
	if depth >= 10 {
		return out, nil
	}
	for _, v := range merges {
		m, err := l.mergePairs(v, at, depth)
		if err != nil {
			return nil, err
		}
		for _, p := range m {
			if _, ok := seen[p.key.Value]; !ok {
				seen[p.key.Value] = p.key
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// mergePairs returns the pairs a merge key brings: of a mapping, or of each
// mapping of a sequence.
func (l *loader) mergePairs(v *yaml.Node, at string, depth int) ([]pair, error) {
	v, err := l.follow(v, at)
	if err != nil {
		return nil, err
	}
	var out []pair
	switch v.Kind {
	case yaml.MappingNode:
		return l.pairs(v, at, depth+1)
	case yaml.SequenceNode:
		for _, e := range v.Content {
			if e, err = l.follow(e, at); err != nil {
				return nil, err
			}
			if e.Kind != yaml.MappingNode {
				return nil, l.errAt(e, at, "map merge requires map or sequence of maps as the value")
			}
			p, err := l.pairs(e, at, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, p...)
		}
		return out, nil
	}
	return nil, l.errAt(v, at, "map merge requires map or sequence of maps as the value")
}

// fieldFunc reads the value of one known key; key is its node, at its path.
type fieldFunc func(key, val *yaml.Node, at string) error

// mapping reads a mapping (null leaves everything unset) by its known keys;
// unknown keys are warned about (KSM ignores them), with hint[key] when the
// key is one older KSM versions read.
func (l *loader) mapping(n *yaml.Node, at string, fields map[string]fieldFunc, hint map[string]string) error {
	n, err := l.follow(n, at)
	if err != nil {
		return err
	}
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return l.errAt(n, at, "cannot unmarshal %s into a mapping", describeNode(n))
	}
	ps, err := l.pairs(n, at, 0)
	if err != nil {
		return err
	}
	for _, p := range ps {
		f, ok := fields[p.key.Value]
		if !ok || p.key.Kind != yaml.ScalarNode {
			msg := "unknown key, ignored as KSM ignores it"
			if h, ok := hint[p.key.Value]; ok {
				msg += ": " + h
			}
			l.warn(p.key, join(at, p.key.Value), "%s", msg)
			continue
		}
		if err := f(p.key, p.val, join(at, p.key.Value)); err != nil {
			return err
		}
	}
	return nil
}

// sequence calls f for each element of a sequence (null is none).
func (l *loader) sequence(n *yaml.Node, at string, f func(i int, e *yaml.Node, at string) error) error {
	n, err := l.follow(n, at)
	if err != nil {
		return err
	}
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return l.errAt(n, at, "cannot unmarshal %s into a list", describeNode(n))
	}
	for i, e := range n.Content {
		if err := f(i, e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
			return err
		}
	}
	return nil
}

func describeNode(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return fmt.Sprintf("%s `%s`", n.ShortTag(), n.Value)
	}
	return n.ShortTag()
}

func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

// into is a fieldFunc decoding the value into out as yaml.v3 does.
func (l *loader) into(out any) fieldFunc {
	return func(key, val *yaml.Node, at string) error {
		if err := val.Decode(out); err != nil {
			return l.errAt(key, at, "%s", decodeError(err))
		}
		return nil
	}
}

// pathInto is a fieldFunc decoding a path and checking that it compiles.
func (l *loader) pathInto(out *[]string) fieldFunc {
	return func(key, val *yaml.Node, at string) error {
		if err := l.into(out)(key, val, at); err != nil {
			return err
		}
		if _, err := compilePath(*out); err != nil {
			return l.errAt(key, at, "%v", err)
		}
		return nil
	}
}

// labelsInto is a fieldFunc decoding a labelsFromPath map and checking that
// each of its paths compiles, the error at that label's key.
func (l *loader) labelsInto(out *map[string][]string) fieldFunc {
	return func(key, val *yaml.Node, at string) error {
		if err := l.into(out)(key, val, at); err != nil {
			return err
		}
		for name, parts := range *out {
			if _, err := compilePath(parts); err != nil {
				return l.errAt(keyNode(val, name, key), join(at, name), "%v", err)
			}
		}
		return nil
	}
}

// keyNode finds the key node of name in mapping n, else returns def.
func keyNode(n *yaml.Node, name string, def *yaml.Node) *yaml.Node {
	n = resolve(n)
	for i := 0; n != nil && i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == name {
			return n.Content[i]
		}
	}
	return def
}
