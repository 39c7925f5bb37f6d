package rwconfig

import (
	"fmt"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// reservedHeaders may not be set through headers, as in Prometheus
// (config.reservedHeaders); authorization has its own message.
var reservedHeaders = map[string]bool{
	"host":                              true,
	"content-encoding":                  true,
	"content-length":                    true,
	"content-type":                      true,
	"user-agent":                        true,
	"connection":                        true,
	"keep-alive":                        true,
	"proxy-authenticate":                true,
	"proxy-authorization":               true,
	"www-authenticate":                  true,
	"accept-encoding":                   true,
	"x-prometheus-remote-write-version": true,
	"x-prometheus-remote-read-version":  true,
	"x-amz-date":                        true,
	"x-amz-security-token":              true,
	"x-amz-content-sha256":              true,
}

// validate checks raw as Prometheus does, naming the key at fault.
func (p *parser) validate(n *yaml.Node, key string, raw *rawEndpoint) error {
	// at returns the key node, value node and path of a key, or n if absent.
	at := func(name string) (k, v *yaml.Node, path string) {
		path = key + "." + name
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == name {
				return n.Content[i], n.Content[i+1], path
			}
		}
		return n, nil, path
	}

	urlNode, _, urlKey := at("url")
	if raw.URL == "" {
		return p.errorf(urlNode, urlKey, "is required")
	}
	u, err := url.Parse(raw.URL)
	if err != nil {
		return p.errorf(urlNode, urlKey, "%v", scrubURLError(err))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return p.errorf(urlNode, urlKey, "%q: want an http:// or https:// URL with a host", redactURL(u))
	}
	if raw.RemoteTimeout <= 0 {
		k, _, path := at("remote_timeout")
		return p.errorf(k, path, "must be positive")
	}
	if _, v, path := at("headers"); v != nil {
		if err := p.validateHeaders(v, path); err != nil {
			return err
		}
	}
	switch ProtobufMessage(raw.ProtobufMessage) {
	case "", MessageV1, MessageV2:
	default:
		k, _, path := at("protobuf_message")
		return p.errorf(k, path, "%q: want %s or %s", raw.ProtobufMessage, MessageV1, MessageV2)
	}
	if err := raw.HTTPClientConfig.Validate(); err != nil {
		return p.locate(n, n, key, err)
	}
	var auth []string
	for _, a := range []struct {
		name string
		set  bool
	}{
		{"basic_auth", raw.HTTPClientConfig.BasicAuth != nil},
		{"authorization", raw.HTTPClientConfig.Authorization != nil},
		{"oauth2", raw.HTTPClientConfig.OAuth2 != nil},
		{"sigv4", raw.SigV4 != nil},
		{"azuread", raw.AzureAD != nil},
		{"google_iam", raw.GoogleIAM != nil},
	} {
		if a.set {
			auth = append(auth, a.name)
		}
	}
	if len(auth) > 1 {
		return p.locate(n, n, key, fmt.Errorf("at most one of basic_auth, authorization, oauth2, sigv4, azuread and google_iam may be set, got %s", strings.Join(auth, " and ")))
	}
	if err := p.validateQueue(n, key, raw); err != nil {
		return err
	}
	return p.validateLabelLimits(n, key, raw)
}

// validateHeaders refuses the headers Prometheus reserves (config.validateHeaders).
func (p *parser) validateHeaders(n *yaml.Node, key string) error {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		switch name := strings.ToLower(k.Value); {
		case name == "authorization":
			return p.errorf(k, key+"."+k.Value, "set the authorization header through basic_auth, authorization, oauth2, sigv4, azuread or google_iam")
		case reservedHeaders[name]:
			return p.errorf(k, key+"."+k.Value, "%s is a reserved header and cannot be set", k.Value)
		}
	}
	return nil
}

// validateQueue checks queue_config and metadata_config as Prometheus does
// (config.QueueConfig.Validate).
func (p *parser) validateQueue(n *yaml.Node, key string, raw *rawEndpoint) error {
	q := raw.QueueConfig
	at := func(block, name string) (*yaml.Node, string) { return blockKey(n, key, block, name) }
	for _, c := range []struct {
		name string
		v    int
	}{
		{"max_shards", q.MaxShards},
		{"min_shards", q.MinShards},
		{"max_samples_per_send", q.MaxSamplesPerSend},
		{"capacity", q.Capacity},
	} {
		if c.v <= 0 {
			k, path := at("queue_config", c.name)
			return p.errorf(k, path, "must be positive, got %d", c.v)
		}
	}
	if q.MinShards > q.MaxShards {
		k, path := at("queue_config", "min_shards")
		return p.errorf(k, path, "%d is more than max_shards %d", q.MinShards, q.MaxShards)
	}
	if q.MaxBackoff < q.MinBackoff {
		k, path := at("queue_config", "max_backoff")
		return p.errorf(k, path, "%s is less than min_backoff %s", q.MaxBackoff, q.MinBackoff)
	}
	if q.BatchSendDeadline <= 0 {
		k, path := at("queue_config", "batch_send_deadline")
		return p.errorf(k, path, "must be positive")
	}
	m := raw.MetadataConfig
	if m.Send && m.SendInterval <= 0 {
		k, path := at("metadata_config", "send_interval")
		return p.errorf(k, path, "must be positive")
	}
	if m.Send && m.MaxSamplesPerSend <= 0 {
		k, path := at("metadata_config", "max_samples_per_send")
		return p.errorf(k, path, "must be positive, got %d", m.MaxSamplesPerSend)
	}
	return nil
}

// blockKey returns the node and path of key name in block of entry n (at
// path key): the key itself, or else the block's key, or else n.
func blockKey(n *yaml.Node, key, block, name string) (*yaml.Node, string) {
	path := key + "." + block + "." + name
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != block {
			continue
		}
		b := resolve(n.Content[i+1])
		for j := 0; j+1 < len(b.Content) && b.Kind == yaml.MappingNode; j += 2 {
			if b.Content[j].Value == name {
				return b.Content[j], path
			}
		}
		return n.Content[i], path
	}
	return n, path
}
