package rwconfig

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is an invalid configuration, located by file, line and key.
type Error struct {
	// File is the configuration file, or empty.
	File string
	// Line is the 1-based line of the key in error, or 0.
	Line int
	// Key is the path of the key in error, such as
	// remote_write[1].queue_config.max_shards.
	Key string
	// Err is what is wrong with it. It never holds a secret.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		key := e.Key
		if strings.ContainsAny(key, "\n\r") { // a quoted YAML key may hold any character
			key = strconv.Quote(key)
			key = key[1 : len(key)-1]
		}
		b.WriteString(key + ": ")
	}
	b.WriteString(joinLines(e.Err.Error()))
	return b.String()
}

// joinLines joins the lines of a message (yaml.v3 writes one per error) into
// one, separated by "; ".
func joinLines(msg string) string {
	if !strings.ContainsAny(msg, "\n\r") {
		return msg
	}
	var lines []string
	for l := range strings.Lines(strings.ReplaceAll(msg, "\r", "\n")) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}

func (e *Error) Unwrap() error { return e.Err }

// parser decodes YAML nodes of one file and locates its errors.
type parser struct {
	file string
}

// errorf returns an error at node n, whose path is key.
func (p *parser) errorf(n *yaml.Node, key, format string, args ...any) error {
	return &Error{File: p.file, Line: n.Line, Key: key, Err: fmt.Errorf(format, args...)}
}

// decodeKeys decodes mapping n into out, a pointer to a struct without a YAML
// unmarshaler of its own, one key at a time so that an error names its key.
// Unknown keys are reported first; null leaves out as it is.
func (p *parser) decodeKeys(n *yaml.Node, key string, out any) error {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, key, "want a mapping")
	}
	if err := p.checkKeys(n, key, reflect.TypeOf(out)); err != nil {
		return err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		one := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{k, v}}
		if err := one.Decode(out); err != nil {
			return p.locate(k, v, key+"."+k.Value, err)
		}
	}
	return nil
}

// decodeValue decodes n into out, which may have its own unmarshaler.
func (p *parser) decodeValue(n *yaml.Node, key string, out any) error {
	if err := p.checkKeys(n, key, reflect.TypeOf(out)); err != nil {
		return err
	}
	if err := n.Decode(out); err != nil {
		return p.locate(n, n, key, err)
	}
	return nil
}

// checkKeys reports the first key under n that type t does not have.
func (p *parser) checkKeys(n *yaml.Node, key string, t reflect.Type) error {
	if rel, at := unknownKey(n, t); at != nil {
		name := rel[strings.LastIndexAny(rel, ".]")+1:]
		return p.errorf(at, key+rel, "unknown key %q", name)
	}
	return nil
}

// locate turns an error from decoding n (at path key, under key node k) into
// an *Error at the most specific key it can find: the line of a YAML type
// error, or else the last key under n that the message names, or else k.
func (p *parser) locate(k, n *yaml.Node, key string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		line, msg := n.Line, te.Errors[0]
		if m := typeErrorLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		msg, tag := typeErrorMessage(msg)
		// The deepest node on the line with the tag in the message, else n
		// itself, else the deepest node on the line.
		rel, at := keyAtLine(n, line, tag)
		if r := resolve(n); at == nil && r.Line == line && r.Tag == tag {
			rel, at = "", k
		}
		if at == nil {
			rel, at = keyAtLine(n, line, "")
		}
		if at == nil {
			at = k
		}
		return &Error{File: p.file, Line: at.Line, Key: key + rel, Err: errors.New(msg)}
	}
	err = scrubURLError(err)
	if rel, at := refine(n, err.Error()); at != nil {
		return &Error{File: p.file, Line: at.Line, Key: key + rel, Err: err}
	}
	return &Error{File: p.file, Line: k.Line, Key: key, Err: err}
}

var (
	typeErrorLine = regexp.MustCompile(`^line (\d+): (.*)$`)
	typeErrorText = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `[^`]*`)? into (.*)$")
	quotedValue   = regexp.MustCompile("`[^`]*`")
)

// typeErrorMessage rewrites a YAML type error such as "cannot unmarshal !!str
// `hunter2` into int" without the value, which may be a secret, and with
// words for YAML tags and Go types. It also returns the YAML tag.
func typeErrorMessage(msg string) (string, string) {
	m := typeErrorText.FindStringSubmatch(msg)
	if m == nil {
		return strings.Join(strings.Fields(quotedValue.ReplaceAllString(msg, "")), " "), ""
	}
	got := map[string]string{
		"!!seq": "a list", "!!map": "a mapping", "!!str": "a string", "!!int": "a number",
		"!!float": "a number", "!!bool": "true or false", "!!null": "nothing", "!!timestamp": "a time",
	}[m[1]]
	if got == "" {
		got = m[1]
	}
	var want string
	switch goType := m[2]; {
	case strings.HasPrefix(goType, "[]"):
		want = "a list"
	case strings.HasPrefix(goType, "map["):
		want = "a mapping"
	case goType == "string":
		want = "a string"
	case goType == "bool":
		want = "true or false"
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "uint") || strings.HasPrefix(goType, "float"):
		want = "a number"
	}
	if want == "" {
		return fmt.Sprintf("%s is not allowed here", got), m[1]
	}
	return fmt.Sprintf("got %s, want %s", got, want), m[1]
}

// scrubURLError replaces an error of url.Parse, which quotes the whole URL
// and so its password, by one that does not.
func scrubURLError(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	if strings.Contains(ue.URL, "@") {
		return errors.New("not a valid URL")
	}
	return fmt.Errorf("not a valid URL: %w", ue.Err)
}

// duplicateKey returns the path (relative to n) and node of the first mapping
// key under n that repeats a key of the same mapping, and that earlier key.
// Decoding into a yaml.Node does not check this.
func duplicateKey(n *yaml.Node) (string, *yaml.Node, *yaml.Node) {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if first, dup := seen[k.Value]; dup && k.Tag != "!!merge" {
				return "." + k.Value, k, first
			}
			seen[k.Value] = k
			if rel, at, first := duplicateKey(n.Content[i+1]); at != nil {
				return "." + k.Value + rel, at, first
			}
		}
	case yaml.SequenceNode:
		for i, e := range n.Content {
			if rel, at, first := duplicateKey(e); at != nil {
				return fmt.Sprintf("[%d]%s", i, rel), at, first
			}
		}
	}
	return "", nil, nil
}

// maxExpandedNodes bounds how many nodes a value may expand to through
// aliases; yaml.v3 bounds its own decoding likewise, against a few lines of
// nested aliases that expand to billions of nodes.
const maxExpandedNodes = 1 << 20

// checkAliases returns an alias under n and why it is refused, if one names a
// node that contains it (yaml.v3 builds such a cycle for "&a [*a]", and
// walking it never ends), or if n expands to more than maxExpandedNodes nodes.
// The tree walks of this package (duplicateKey, keyAtLine) follow aliases, so
// a value must pass this first.
func checkAliases(n *yaml.Node) (*yaml.Node, string) {
	c := aliasCheck{state: map[*yaml.Node]bool{}, size: map[*yaml.Node]int{}}
	if size, at := c.walk(n); at != nil {
		return at, fmt.Sprintf("alias *%s is inside the node it names", at.Value)
	} else if size > maxExpandedNodes {
		return n, fmt.Sprintf("aliases expand this to more than %d nodes", maxExpandedNodes)
	}
	return nil, ""
}

type aliasCheck struct {
	state map[*yaml.Node]bool // false while walking the node, true once done
	size  map[*yaml.Node]int  // nodes each walked node expands to, at most maxExpandedNodes+1
}

// walk returns the number of nodes n expands to, or the alias that closes a
// cycle.
func (c *aliasCheck) walk(n *yaml.Node) (int, *yaml.Node) {
	if n == nil {
		return 0, nil
	}
	t := n
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		t = n.Alias
	}
	if done, ok := c.state[t]; ok {
		if !done {
			return 0, n
		}
		return c.size[t], nil
	}
	c.state[t] = false
	size := 1
	for _, child := range t.Content {
		s, at := c.walk(child)
		if at != nil {
			return 0, at
		}
		size = min(size+s, maxExpandedNodes+1)
	}
	c.state[t], c.size[t] = true, size
	return size, nil
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// keyAtLine returns the path (relative to n) and the node of the deepest key or
// sequence item under n on the given line whose value has the given YAML tag
// (any tag if tag is empty).
func keyAtLine(n *yaml.Node, line int, tag string) (string, *yaml.Node) {
	n = resolve(n)
	match := func(v *yaml.Node) bool { return tag == "" || resolve(v).Tag == tag }
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if rel, at := keyAtLine(v, line, tag); at != nil {
				return "." + k.Value + rel, at
			}
			if (k.Line == line || v.Line == line) && match(v) {
				return "." + k.Value, k
			}
		}
	case yaml.SequenceNode:
		for i, e := range n.Content {
			if rel, at := keyAtLine(e, line, tag); at != nil {
				return fmt.Sprintf("[%d]%s", i, rel), at
			}
			if e.Line == line && match(e) {
				return fmt.Sprintf("[%d]", i), e
			}
		}
	}
	return "", nil
}

// refine returns the path (relative to n) and the node of the key that msg is
// about: the last key of mapping n named in msg, refined the same way inside
// its value. Libraries' validation errors name the keys at fault ("at most one
// of basic_auth, oauth2 & authorization must be configured"), not their lines.
func refine(n *yaml.Node, msg string) (string, *yaml.Node) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return "", nil
	}
	best := -1
	for i := 0; i+1 < len(n.Content); i += 2 {
		if mentions(msg, n.Content[i].Value) {
			best = i
		}
	}
	if best < 0 {
		return "", nil
	}
	k, v := n.Content[best], n.Content[best+1]
	if rel, at := refine(v, msg); at != nil {
		return "." + k.Value + rel, at
	}
	return "." + k.Value, k
}

// mentions reports whether msg has word as a whole word. Go's regexp errors
// say "regexp" for relabel's "regex" key.
func mentions(msg, word string) bool {
	if word == "" {
		return false
	}
	if word == "regex" && mentions(msg, "regexp") {
		return true
	}
	for i := 0; ; {
		j := strings.Index(msg[i:], word)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(word)
		if (j == 0 || !isWordByte(msg[j-1])) && (end == len(msg) || !isWordByte(msg[end])) {
			return true
		}
		i = j + 1
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// unknownKey returns the path (relative to n) and node of the first mapping key
// under n that type t has no field for, following yaml struct tags and inline
// fields. Struct types without yaml tags (such as config.URL, which decodes from
// a string) are not checked. yaml.v3 has no strict mode for Node.Decode.
func unknownKey(n *yaml.Node, t reflect.Type) (string, *yaml.Node) {
	n = resolve(n)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return "", nil
		}
		fields := map[string]reflect.Type{}
		inlineMap := yamlFields(t, fields)
		if len(fields) == 0 && inlineMap == nil {
			return "", nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				continue
			}
			ft, ok := fields[k.Value]
			if !ok {
				if inlineMap == nil {
					return "." + k.Value, k
				}
				ft = inlineMap
			}
			if rel, at := unknownKey(v, ft); at != nil {
				return "." + k.Value + rel, at
			}
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return "", nil
		}
		for i, e := range n.Content {
			if rel, at := unknownKey(e, t.Elem()); at != nil {
				return fmt.Sprintf("[%d]%s", i, rel), at
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return "", nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if rel, at := unknownKey(n.Content[i+1], t.Elem()); at != nil {
				return "." + n.Content[i].Value + rel, at
			}
		}
	}
	return "", nil
}

// yamlFields adds the YAML keys of struct t to fields, with their types, and
// returns the element type of an inline map (which takes any other key), or nil.
func yamlFields(t reflect.Type, fields map[string]reflect.Type) (inlineMap reflect.Type) {
	if t == reflect.TypeFor[yaml.Node]() {
		return nil
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",inline,") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch ft.Kind() {
			case reflect.Struct:
				if m := yamlFields(ft, fields); m != nil {
					inlineMap = m
				}
			case reflect.Map:
				inlineMap = ft.Elem()
			}
			continue
		}
		if tag == "" {
			// Untagged fields still decode (under the lower-cased name),
			// but a struct with no tags at all is not checked.
			name = strings.ToLower(f.Name)
			if !hasYAMLTags(t) {
				continue
			}
		}
		fields[name] = f.Type
	}
	return inlineMap
}

func hasYAMLTags(t reflect.Type) bool {
	for i := range t.NumField() {
		if _, ok := t.Field(i).Tag.Lookup("yaml"); ok {
			return true
		}
	}
	return false
}
