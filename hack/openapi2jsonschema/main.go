// Command openapi2jsonschema converts the Kubernetes OpenAPI v3 documents
// (api/openapi-spec/v3/*.json in the k8s.io/kubernetes module) into the JSON
// schemas kubeconform reads, offline.
//
// For each kind (a schema with x-kubernetes-group-version-kind) it writes
// {kind}{-group}-{version}.json, lowercase, with group cut at its first dot
// (apps/v1 Deployment: deployment-apps-v1.json; networking.k8s.io/v1
// NetworkPolicy: networkpolicy-networking-v1.json; v1 Pod: pod-v1.json), into
// OUT/v{K8S}-standalone and a strict variant, where objects accept no unknown
// fields, into OUT/v{K8S}-standalone-strict. That is kubeconform's layout for a
// local -schema-location. Each file is self-contained: the definitions it
// references are copied under "definitions", so recursive types stay finite.
//
// Usage: openapi2jsonschema -out DIR -kubernetes-version 1.37.2 FILE.json...
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

const refPrefix = "#/components/schemas/"

func main() {
	out := flag.String("out", "", "output directory")
	version := flag.String("kubernetes-version", "", "Kubernetes version the documents are from, e.g. 1.37.2")
	flag.Parse()
	if *out == "" || *version == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: openapi2jsonschema -out DIR -kubernetes-version X.Y.Z FILE.json...")
		os.Exit(2)
	}
	n, err := run(*out, strings.TrimPrefix(*version, "v"), flag.Args())
	if err != nil {
		fmt.Fprintf(os.Stderr, "openapi2jsonschema: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "openapi2jsonschema: %d kinds written to %s\n", n, *out)
}

type gvk struct {
	Group   string `json:"group"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
}

func run(out, version string, files []string) (int, error) {
	dirs := map[bool]string{
		false: filepath.Join(out, "v"+version+"-standalone"),
		true:  filepath.Join(out, "v"+version+"-standalone-strict"),
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return 0, err
		}
	}
	written := map[string]bool{}
	for _, f := range files {
		schemas, err := readSchemas(f)
		if err != nil {
			return 0, err
		}
		names := make([]string, 0, len(schemas))
		for name := range schemas {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			gvks, err := kinds(schemas[name])
			if err != nil {
				return 0, fmt.Errorf("%s: %s: %w", f, name, err)
			}
			// Kinds shared by every group (DeleteOptions, WatchEvent) are
			// not objects one writes into a manifest.
			if len(gvks) != 1 {
				continue
			}
			g := gvks[0]
			file := fileName(g)
			for strict, dir := range dirs {
				doc, err := standalone(schemas, name, g, strict)
				if err != nil {
					return 0, fmt.Errorf("%s: %s: %w", f, name, err)
				}
				data, err := json.MarshalIndent(doc, "", "  ")
				if err != nil {
					return 0, err
				}
				if err := os.WriteFile(filepath.Join(dir, file), append(data, '\n'), 0o644); err != nil {
					return 0, err
				}
			}
			written[file] = true
		}
	}
	if len(written) == 0 {
		return 0, errors.New("no kinds found")
	}
	return len(written), nil
}

func readSchemas(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc.Components.Schemas, nil
}

func kinds(schema any) ([]gvk, error) {
	m, _ := schema.(map[string]any)
	raw, ok := m["x-kubernetes-group-version-kind"]
	if !ok {
		return nil, nil
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var out []gvk
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("x-kubernetes-group-version-kind: %w", err)
	}
	return out, nil
}

// fileName is kubeconform's {ResourceKind}{KindSuffix}.json.
func fileName(g gvk) string {
	suffix := ""
	if g.Group != "" {
		suffix = "-" + strings.SplitN(g.Group, ".", 2)[0]
	}
	return strings.ToLower(g.Kind + suffix + "-" + g.Version + ".json")
}

// standalone returns the schema of kind name with every definition it
// references, directly or not, under "definitions".
func standalone(schemas map[string]any, name string, g gvk, strict bool) (map[string]any, error) {
	defs := map[string]any{}
	var collect func(string) error
	collect = func(n string) error {
		if _, done := defs[n]; done {
			return nil
		}
		s, ok := schemas[n]
		if !ok {
			return fmt.Errorf("reference to missing schema %q", n)
		}
		defs[n] = nil // mark before descending: types may be recursive
		conv, refs := convert(s, strict)
		defs[n] = conv
		for _, r := range refs {
			if err := collect(r); err != nil {
				return err
			}
		}
		return nil
	}
	root, refs := convert(schemas[name], strict)
	for _, r := range refs {
		if err := collect(r); err != nil {
			return nil, err
		}
	}
	doc := root.(map[string]any)
	// Pin apiVersion and kind, so a manifest is checked against its own kind.
	if props, ok := doc["properties"].(map[string]any); ok {
		apiVersion := g.Version
		if g.Group != "" {
			apiVersion = g.Group + "/" + g.Version
		}
		if p, ok := props["apiVersion"].(map[string]any); ok {
			p["enum"] = []any{apiVersion}
		}
		if p, ok := props["kind"].(map[string]any); ok {
			p["enum"] = []any{g.Kind}
		}
	}
	doc["$schema"] = "http://json-schema.org/draft-07/schema#"
	if len(defs) > 0 {
		doc["definitions"] = defs
	}
	return doc, nil
}

// convert copies an OpenAPI v3 schema as JSON Schema: references point into
// "definitions", nullable adds the null type, and in strict mode objects with
// declared properties refuse others. It returns the names referenced.
func convert(v any, strict bool) (any, []string) {
	var refs []string
	var walk func(any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			out := make(map[string]any, len(v))
			for k, e := range v {
				switch {
				case k == "$ref":
					s, _ := e.(string)
					name := strings.TrimPrefix(s, refPrefix)
					refs = append(refs, name)
					out[k] = "#/definitions/" + name
				case k == "properties" || k == "definitions":
					// Keys here are field names, not keywords.
					props := map[string]any{}
					for pk, pv := range e.(map[string]any) {
						props[pk] = walk(pv)
					}
					out[k] = props
				case strings.HasPrefix(k, "x-kubernetes-") && k != "x-kubernetes-preserve-unknown-fields":
					// Annotations for the apiserver, not validation.
				default:
					out[k] = walk(e)
				}
			}
			if nullable, _ := out["nullable"].(bool); nullable {
				if t, ok := out["type"].(string); ok {
					out["type"] = []any{t, "null"}
				}
			}
			delete(out, "nullable")
			_, hasProps := out["properties"]
			_, hasAdditional := out["additionalProperties"]
			preserve, _ := out["x-kubernetes-preserve-unknown-fields"].(bool)
			if strict && hasProps && !hasAdditional && !preserve {
				out["additionalProperties"] = false
			}
			return out
		case []any:
			out := make([]any, len(v))
			for i, e := range v {
				out[i] = walk(e)
			}
			return out
		}
		return v
	}
	return walk(v), refs
}
