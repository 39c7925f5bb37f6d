package customresource

import (
	"fmt"
	"strconv"
	"strings"
)

// The path language of path, valueFrom and labelsFromPath (KSM's
// compilePath). Each part is resolved against the value the previous parts
// reached; a part that does not resolve makes the whole path nil:
//   - "[key=value]" selects the first map element of a list whose key equals
//     value: as a string, else as a number (when value converts to one, as a
//     gauge value would), else as a bool;
//   - "key=value" on a map gives value when the map's key is that string,
//     else the map's element named "key=value";
//   - on a map, any other part is a key; on a list, an integer index, negative
//     from the end.
// An empty path is the value itself.

// step is one compiled part of a path.
type step struct {
	part string
	get  func(v any) any
}

// path is a compiled path.
type path []step

// compilePath compiles the parts of a path. The only invalid part is a
// bracketed one without "=".
func compilePath(parts []string) (path, error) {
	out := make(path, 0, len(parts))
	for _, part := range parts {
		if strings.HasPrefix(part, "[") && strings.HasSuffix(part, "]") {
			key, val, ok := strings.Cut(part[1:len(part)-1], "=")
			if !ok {
				return nil, fmt.Errorf("invalid list lookup: %s", part)
			}
			out = append(out, step{part: part, get: listLookup(key, val)})
			continue
		}
		out = append(out, step{part: part, get: childLookup(part)})
	}
	return out, nil
}

// listLookup is the "[key=value]" step.
func listLookup(key, val string) func(any) any {
	num, numErr := toFloat64(val, false)
	b, boolErr := strconv.ParseBool(val)
	return func(v any) any {
		list, ok := v.([]any)
		if !ok {
			return nil
		}
		for _, e := range list {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			c, set := m[key]
			if !set {
				continue
			}
			if s, ok := c.(string); ok && s == val {
				return m
			}
			if numErr == nil {
				if f, err := toFloat64(c, false); err == nil && f == num {
					return m
				}
			}
			if cb, ok := c.(bool); ok && boolErr == nil && cb == b {
				return m
			}
		}
		return nil
	}
}

// childLookup is a map key or list index step.
func childLookup(part string) func(any) any {
	key, val, isEq := strings.Cut(part, "=")
	isEq = isEq && !strings.Contains(val, "=")
	return func(v any) any {
		switch t := v.(type) {
		case map[string]any:
			if isEq {
				if s, ok := t[key].(string); ok && s == val {
					return s
				}
			}
			return t[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil {
				return nil
			}
			if i < 0 {
				i += len(t)
			}
			if i < 0 || i >= len(t) {
				return nil
			}
			return t[i]
		}
		return nil
	}
}

// get resolves the path in v; nil when a part does not resolve.
func (p path) get(v any) any {
	for _, s := range p {
		if v == nil {
			return nil
		}
		v = s.get(v)
	}
	return v
}

// String renders the path as KSM does in its errors: [a,b,c].
func (p path) String() string {
	parts := make([]string, len(p))
	for i, s := range p {
		parts[i] = s.part
	}
	return "[" + strings.Join(parts, ",") + "]"
}
