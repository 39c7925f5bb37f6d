package rwconfig

import (
	"reflect"

	"go.yaml.in/yaml/v3"
)

// labelLimits decodes label_limits into out, which holds the defaults. Each
// limit is a whole number: YAML would decode 1.5 as 1, so a fraction is
// refused here, before decoding.
func (p *parser) labelLimits(n *yaml.Node, key string, out *rawLabelLimits) error {
	if n = resolve(n); n.Kind == yaml.MappingNode {
		if err := p.checkKeys(n, key, reflect.TypeOf(out)); err != nil {
			return err
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], resolve(n.Content[i+1])
			if v.Kind == yaml.ScalarNode && v.Tag == "!!float" {
				return p.errorf(k, key+"."+k.Value, "got %s, want a whole number (0 for no limit)", v.Value)
			}
		}
	}
	return p.decodeKeys(n, key, out)
}

// validateLabelLimits refuses negative limits; 0 is no limit.
func (p *parser) validateLabelLimits(n *yaml.Node, key string, raw *rawEndpoint) error {
	l := raw.LabelLimits
	for _, c := range []struct {
		name string
		v    int
	}{
		{"max_label_names_per_series", l.MaxLabelNamesPerSeries},
		{"max_label_name_length", l.MaxLabelNameLength},
		{"max_label_value_length", l.MaxLabelValueLength},
	} {
		if c.v < 0 {
			k, path := blockKey(n, key, "label_limits", c.name)
			return p.errorf(k, path, "must be 0 (no limit) or more, got %d", c.v)
		}
	}
	return nil
}
