package customresource

import (
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
)

// parseLabelSelector checks a labelSelector as the apiserver parses one and
// returns it in its canonical form ("" selects everything).
func parseLabelSelector(s string) (string, error) {
	sel, err := labels.Parse(s)
	if err != nil {
		return "", err
	}
	return sel.String(), nil
}

// parseFieldSelector checks a fieldSelector as the apiserver parses one and
// returns it in its canonical form. Which fields a custom resource can be
// selected by (metadata.name, metadata.namespace and the CRD's
// selectableFields) only its apiserver knows: it refuses the others.
func parseFieldSelector(s string) (string, error) {
	sel, err := fields.ParseSelector(s)
	if err != nil {
		return "", err
	}
	return sel.String(), nil
}
