package customresource

import "testing"

// The examples of KSM's docs/metrics/extend/customresourcestate-metrics.md,
// on its Foo object; expected lines are the docs' (labels in KSM's order).

func TestDocsSingleValue(t *testing.T) {
	g, errs := generator(t, fooResource+`      metrics:
        - name: "uptime"
          help: "Foo uptime"
          each:
            type: Gauge
            gauge:
              path: [status, uptime]
`)
	equalLines(t, lines(t, g, object(t, fooJSON)), `kube_customresource_uptime{`+gvkLabels+`} 43.21`)
	if len(*errs) > 0 {
		t.Errorf("errors: %v", *errs)
	}
	if fs := g.Families(); len(fs) != 1 || fs[0].Name != "kube_customresource_uptime" || fs[0].Help != "Foo uptime" || fs[0].Type != "gauge" {
		t.Errorf("families %+v", fs)
	}
}

// The kitchen sink: metric-level commonLabels and labelsFromPath, "*" and
// "lorem_*" copies, a field overriding a copy, labelFromKey, each-level
// labels. The docs' listing shows the "**" copy as bar and qux; KSM's
// addPathLabels prefixes a trailing-"*" name's keys with what precedes the
// "*", so "**" gives *bar and *qux, sanitised to _bar and _qux.
func TestDocsKitchenSink(t *testing.T) {
	g, _ := generator(t, fooResource+`      commonLabels:
        crd_type: "foo"
      labelsFromPath:
        name: [metadata, name]
      metrics:
        - name: "ready_count"
          help: "Number Foo Bars ready"
          each:
            type: Gauge
            gauge:
              path: [status, sub]
              labelFromKey: type
              labelsFromPath:
                active: [active]
              valueFrom: [ready]
          commonLabels:
            custom_metric: "yes"
          labelsFromPath:
            "*": [metadata, labels]
            "lorem_*": [metadata, annotations]
            "**": [metadata, annotations]
            name: [metadata, name]
            foo: [metadata, labels, foo]
`)
	const common = `_bar="baz",_qux="quxx",`
	const tail = `crd_type="foo",custom_metric="yes",` + gvkLabels + `,foo="bar",lorem_bar="baz",lorem_qux="quxx",name="foo"`
	equalLines(t, lines(t, g, object(t, fooJSON)),
		`kube_customresource_ready_count{`+common+`active="1",`+tail+`,type="type-a"} 2`,
		`kube_customresource_ready_count{`+common+`active="3",`+tail+`,type="type-b"} 4`,
	)
}

func TestDocsNonMapArray(t *testing.T) {
	g, _ := generator(t, fooResource+`      labelsFromPath:
        name: [metadata, name]
      metrics:
        - name: "ref_info"
          help: "Reference to other Foo"
          each:
            type: Info
            info:
              path: [spec, refs]
              labelsFromPath:
                ref: []
`)
	equalLines(t, lines(t, g, object(t, fooJSON)),
		`kube_customresource_ref_info{`+gvkLabels+`,name="foo",ref="foo_2"} 1`,
		`kube_customresource_ref_info{`+gvkLabels+`,name="foo",ref="foo_with_extensions"} 1`,
		`kube_customresource_ref_info{`+gvkLabels+`,name="foo",ref="my_other_foo"} 1`,
	)
	if fs := g.Families(); fs[0].Type != "info" {
		t.Errorf("type %s", fs[0].Type)
	}
}

// Two metrics of one name (the docs' VPA example): one family, one header.
func TestDocsSameMetricDifferentLabels(t *testing.T) {
	g, _ := generator(t, `kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind:
        group: autoscaling.k8s.io
        kind: "VerticalPodAutoscaler"
        version: "v1"
      labelsFromPath:
        verticalpodautoscaler: [metadata, name]
        namespace: [metadata, namespace]
        target_api_version: [apiVersion]
        target_kind: [spec, targetRef, kind]
        target_name: [spec, targetRef, name]
      metrics:
        - name: "verticalpodautoscaler_status_recommendation_containerrecommendations_lowerbound"
          help: "Minimum memory resources the container can use before the VerticalPodAutoscaler updater evicts it."
          commonLabels:
            unit: "byte"
            resource: "memory"
          each:
            type: Gauge
            gauge:
              path: [status, recommendation, containerRecommendations]
              labelsFromPath:
                container: [containerName]
              valueFrom: [lowerBound, memory]
        - name: "verticalpodautoscaler_status_recommendation_containerrecommendations_lowerbound"
          help: "Minimum cpu resources the container can use before the VerticalPodAutoscaler updater evicts it."
          commonLabels:
            unit: "core"
            resource: "cpu"
          each:
            type: Gauge
            gauge:
              path: [status, recommendation, containerRecommendations]
              labelsFromPath:
                container: [containerName]
              valueFrom: [lowerBound, cpu]
`)
	vpa := object(t, `{"apiVersion": "apps/v1", "metadata": {"name": "vpa-example", "namespace": "namespace-example"},
	  "spec": {"targetRef": {"kind": "Deployment", "name": "target-name-example"}},
	  "status": {"recommendation": {"containerRecommendations": [
	    {"containerName": "consumer", "lowerBound": {"cpu": "100m", "memory": "123456"}}]}}}`)
	const name = "kube_customresource_verticalpodautoscaler_status_recommendation_containerrecommendations_lowerbound"
	const gvk = `customresource_group="autoscaling.k8s.io",customresource_kind="VerticalPodAutoscaler",customresource_version="v1"`
	const target = `target_api_version="apps/v1",target_kind="Deployment",target_name="target-name-example"`
	equalLines(t, lines(t, g, vpa),
		name+`{container="consumer",`+gvk+`,namespace="namespace-example",resource="cpu",`+target+`,unit="core",verticalpodautoscaler="vpa-example"} 0.1`,
		name+`{container="consumer",`+gvk+`,namespace="namespace-example",resource="memory",`+target+`,unit="byte",verticalpodautoscaler="vpa-example"} 123456`,
	)
	if fs := g.Families(); len(fs) != 1 || fs[0].Help[:14] != "Minimum memory" {
		t.Errorf("families %+v", fs)
	}
}

func TestDocsConditions(t *testing.T) {
	g, _ := generator(t, fooResource+`      labelsFromPath:
        name:
        - metadata
        - name
        namespace:
        - metadata
        - namespace
      metrics:
      - name: "foo_status"
        help: "status condition "
        each:
          type: Gauge
          gauge:
            path: [status, conditions]
            labelsFromPath:
              type: ["type"]
            valueFrom: ["status"]
`)
	obj := object(t, `{"metadata": {"name": "foo", "namespace": "ns"}, "status": {"conditions": [
	  {"lastTransitionTime": "2019-10-22T16:29:31Z", "status": "True", "type": "Ready"}]}}`)
	equalLines(t, lines(t, g, obj), `kube_customresource_foo_status{`+gvkLabels+`,name="foo",namespace="ns",type="Ready"} 1`)
}

func TestDocsStateSet(t *testing.T) {
	g, _ := generator(t, fooResource+`      metrics:
        - name: "status_phase"
          help: "Foo status_phase"
          each:
            type: StateSet
            stateSet:
              labelName: phase
              path: [status, phase]
              list: [Pending, Bar, Baz]
`)
	equalLines(t, lines(t, g, object(t, fooJSON)),
		`kube_customresource_status_phase{`+gvkLabels+`,phase="Bar"} 0`,
		`kube_customresource_status_phase{`+gvkLabels+`,phase="Baz"} 0`,
		`kube_customresource_status_phase{`+gvkLabels+`,phase="Pending"} 1`,
	)
	if fs := g.Families(); fs[0].Type != "stateset" {
		t.Errorf("type %s", fs[0].Type)
	}
}

func TestDocsInfo(t *testing.T) {
	g, _ := generator(t, fooResource+`      metrics:
        - name: "version"
          help: "Foo version"
          each:
            type: Info
            info:
              labelsFromPath:
                version: [spec, version]
`)
	equalLines(t, lines(t, g, object(t, fooJSON)), `kube_customresource_version{`+gvkLabels+`,version="v1.2.3"} 1`)
}

func TestDocsNaming(t *testing.T) {
	for prefix, want := range map[string]string{
		`metricNamePrefix: myteam_foos`: "myteam_foos_uptime",
		`metricNamePrefix: ""`:          "uptime",
		`metricNamePrefix: ~`:           "kube_customresource_uptime", // null is unset, as yaml.v3 decodes it
		`errorLogV: 0`:                  "kube_customresource_uptime",
	} {
		g, _ := generator(t, fooResource+`      `+prefix+`
      metrics:
        - name: uptime
          each:
            type: Gauge
            gauge:
              path: [status, uptime]
`)
		equalLines(t, lines(t, g, object(t, fooJSON)), want+`{`+gvkLabels+`} 43.21`)
	}
}

// The exposition of two objects, headers as KSM writes them: an empty help
// leaves "# HELP name " and stateset is gauge in the text format.
func TestExposition(t *testing.T) {
	g, _ := generator(t, fooResource+`      metrics:
        - name: phase
          each:
            type: StateSet
            stateSet: {labelName: phase, path: [status, phase], list: [Pending, Done]}
        - name: uptime
          help: "Foo uptime"
          each: {type: Gauge, gauge: {path: [status, uptime]}}
`)
	done := object(t, `{"status": {"phase": "Done"}}`)
	want := `# HELP kube_customresource_phase 
# TYPE kube_customresource_phase gauge
kube_customresource_phase{` + gvkLabels + `,phase="Done"} 0
kube_customresource_phase{` + gvkLabels + `,phase="Pending"} 1
kube_customresource_phase{` + gvkLabels + `,phase="Done"} 1
kube_customresource_phase{` + gvkLabels + `,phase="Pending"} 0
# HELP kube_customresource_uptime Foo uptime
# TYPE kube_customresource_uptime gauge
kube_customresource_uptime{` + gvkLabels + `} 43.21
`
	if got := exposition(t, g, object(t, fooJSON), done); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
