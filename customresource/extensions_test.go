package customresource

import (
	"strings"
	"testing"

	"github.com/kube-state-push/kube-state-push/collectors"
)

// The extensions: keys KSM v2.20 does not read, each its own test.

// appJSON is an Argo CD Application-like object: a list of resources with a
// sync status, a map, labels and annotations.
const appJSON = `{
  "metadata": {
    "name": "shop", "namespace": "argocd",
    "labels": {"team": "payments", "app.kubernetes.io/part-of": "shop", "tier": "web"},
    "annotations": {"example.com/replicas": "3", "example.com/budget": "1.5Gi", "example.com/owner": "ops", "note": "x"}
  },
  "spec": {"destinations": {"eu": {"server": "a"}, "us": {"server": "b"}}},
  "status": {
    "resources": [
      {"kind": "Deployment", "name": "api", "status": "OutOfSync", "health": {"status": "Degraded"}},
      {"kind": "Service", "name": "api", "status": "Synced", "health": {"status": "Healthy"}},
      {"kind": "Deployment", "name": "web", "status": "Synced", "health": {"status": "Healthy"}},
      {"kind": "ConfigMap", "name": "cfg", "status": "Synced"}
    ],
    "empty": [],
    "phase": "Running"
  }
}`

const appResource = `kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind: {group: argoproj.io, version: v1alpha1, kind: Application}
      metricNamePrefix: argocd_app
      labelsFromPath:
        name: [metadata, name]
`

const appLabels = `customresource_group="argoproj.io",customresource_kind="Application",customresource_version="v1alpha1"`

func TestCountExtension(t *testing.T) {
	g, errs := generator(t, appResource+`      metrics:
        - name: resources
          help: Resources of the application.
          each:
            type: Gauge
            gauge: {path: [status, resources], count: true}
        - name: resources_by_status
          each:
            type: Gauge
            gauge:
              path: [status, resources]
              count: true
              labelsFromPath: {sync_status: [status], health: [health, status]}
        - name: destinations
          each: {type: Gauge, gauge: {path: [spec, destinations], count: true}}
        - name: empty
          each: {type: Gauge, gauge: {path: [status, empty], count: true}}
        - name: empty_by_status
          each: {type: Gauge, gauge: {path: [status, empty], count: true, nilIsZero: true, labelsFromPath: {sync_status: [status]}}}
        - name: missing_by_status
          each: {type: Gauge, gauge: {path: [status, missing], count: true, nilIsZero: true, labelsFromPath: {sync_status: [status]}}}
        - name: missing
          each: {type: Gauge, gauge: {path: [status, missing], count: true}}
        - name: missing_zero
          each: {type: Gauge, gauge: {path: [status, missing], count: true, nilIsZero: true}}
        - name: not_a_list
          each: {type: Gauge, gauge: {path: [status, phase], count: true}}
`)
	equalLines(t, lines(t, g, object(t, appJSON)),
		`argocd_app_destinations{`+appLabels+`,name="shop"} 2`,
		`argocd_app_empty{`+appLabels+`,name="shop"} 0`,
		`argocd_app_missing_zero{`+appLabels+`,name="shop"} 0`,
		`argocd_app_resources{`+appLabels+`,name="shop"} 4`,
		`argocd_app_resources_by_status{`+appLabels+`,health="Degraded",name="shop",sync_status="OutOfSync"} 1`,
		`argocd_app_resources_by_status{`+appLabels+`,health="Healthy",name="shop",sync_status="Synced"} 2`,
		`argocd_app_resources_by_status{`+appLabels+`,name="shop",sync_status="Synced"} 1`,
	)
	equalLines(t, *errs, "argoproj.io/v1alpha1/Application argocd_app_not_a_list: [status,phase]: count: expected a list or a map, got string")
}

func TestConstantAndMetaValueExtensions(t *testing.T) {
	g, errs := generator(t, appResource+`      metrics:
        - name: info
          each: {type: Gauge, gauge: {constant: 1, labelsFromPath: {phase: [status, phase]}}}
        - name: resource
          each:
            type: Gauge
            gauge: {path: [status, resources], constant: 2.5, labelsFromPath: {resource: [name], kind: [kind]}}
        - name: destination
          each: {type: Gauge, gauge: {path: [spec, destinations], constant: 1, labelFromKey: region}}
        - name: none
          each: {type: Gauge, gauge: {path: [status, missing], constant: 1}}
        - name: desired_replicas
          each: {type: Gauge, gauge: {valueFromAnnotation: example.com/replicas}}
        - name: budget_bytes
          each: {type: Gauge, gauge: {valueFromAnnotation: example.com/budget}}
        - name: per_resource_replicas
          each: {type: Gauge, gauge: {path: [status, resources], valueFromAnnotation: example.com/replicas, labelsFromPath: {resource: [name], kind: [kind]}}}
        - name: tier
          each: {type: Gauge, gauge: {valueFromLabel: tier}}
        - name: absent
          each: {type: Gauge, gauge: {valueFromLabel: absent}}
        - name: absent_zero
          each: {type: Gauge, gauge: {valueFromLabel: absent, nilIsZero: true}}
        - name: owner
          each: {type: Gauge, gauge: {valueFromAnnotation: example.com/owner}}
`)
	got := lines(t, g, object(t, appJSON))
	equalLines(t, got,
		`argocd_app_absent_zero{`+appLabels+`,name="shop"} 0`,
		`argocd_app_budget_bytes{`+appLabels+`,name="shop"} 1.610612736e+09`,
		`argocd_app_desired_replicas{`+appLabels+`,name="shop"} 3`,
		`argocd_app_destination{`+appLabels+`,name="shop",region="eu"} 1`,
		`argocd_app_destination{`+appLabels+`,name="shop",region="us"} 1`,
		`argocd_app_info{`+appLabels+`,name="shop",phase="Running"} 1`,
		`argocd_app_per_resource_replicas{`+appLabels+`,kind="ConfigMap",name="shop",resource="cfg"} 3`,
		`argocd_app_per_resource_replicas{`+appLabels+`,kind="Deployment",name="shop",resource="api"} 3`,
		`argocd_app_per_resource_replicas{`+appLabels+`,kind="Deployment",name="shop",resource="web"} 3`,
		`argocd_app_per_resource_replicas{`+appLabels+`,kind="Service",name="shop",resource="api"} 3`,
		`argocd_app_resource{`+appLabels+`,kind="ConfigMap",name="shop",resource="cfg"} 2.5`,
		`argocd_app_resource{`+appLabels+`,kind="Deployment",name="shop",resource="api"} 2.5`,
		`argocd_app_resource{`+appLabels+`,kind="Deployment",name="shop",resource="web"} 2.5`,
		`argocd_app_resource{`+appLabels+`,kind="Service",name="shop",resource="api"} 2.5`,
	)
	// "web" and "ops" are no numbers: counted and logged, like KSM's conversions.
	equalLines(t, *errs,
		`argoproj.io/v1alpha1/Application argocd_app_tier: metadata.labels[tier]: strconv.ParseFloat: parsing "web": invalid syntax`,
		`argoproj.io/v1alpha1/Application argocd_app_owner: metadata.annotations[example.com/owner]: strconv.ParseFloat: parsing "ops": invalid syntax`,
	)
}

func TestLabelsAndAnnotationsExtension(t *testing.T) {
	g, errs := generator(t, appResource+`      labelsAllowlist: [team, "app.kubernetes.io/*"]
      annotationsAllowlist: ["*"]
      metrics:
        - name: phase_info
          each: {type: Info, info: {labelsFromPath: {phase: [status, phase]}}}
`)
	families := g.Families()
	if len(families) != 3 || families[1].Name != "argocd_app_labels" || families[2].Name != "argocd_app_annotations" ||
		families[1].Help != "Kubernetes labels converted to Prometheus labels." || families[2].Type != "gauge" {
		t.Errorf("families %+v", families)
	}
	equalLines(t, lines(t, g, object(t, appJSON)),
		`argocd_app_annotations{annotation_example_com_budget="1.5Gi",annotation_example_com_owner="ops",annotation_example_com_replicas="3",annotation_note="x",`+appLabels+`,name="shop"} 1`,
		`argocd_app_labels{`+appLabels+`,label_app_kubernetes_io_part_of="shop",label_team="payments",name="shop"} 1`,
		`argocd_app_phase_info{`+appLabels+`,name="shop",phase="Running"} 1`,
	)
	equalLines(t, *errs)
	// An object without labels still has its series, as kube_pod_labels does.
	equalLines(t, lines(t, g, object(t, `{"metadata": {"name": "bare"}}`)),
		`argocd_app_annotations{`+appLabels+`,name="bare"} 1`,
		`argocd_app_labels{`+appLabels+`,name="bare"} 1`,
	)
	// Families filtered as any other (--metric-denylist).
	cfg := mustLoad(t, appResource+"      labelsAllowlist: [team]\n")
	g2, err := NewGenerator(cfg.Resources[0], Options{Family: func(f collectors.FamilyInfo) bool { return f.Name != "argocd_app_labels" }})
	if err != nil || len(g2.Families()) != 0 {
		t.Errorf("filtered: %v %+v", err, g2.Families())
	}
}

func TestSelectorsExtension(t *testing.T) {
	cfg := mustLoad(t, appResource+`      labelSelector: "team in (payments, web),!legacy"
      fieldSelector: "metadata.namespace!=kube-system,metadata.name=shop"
`)
	e := cfg.Resources[0].Extensions
	if e.LabelSelector != "!legacy,team in (payments,web)" || e.FieldSelector != "metadata.name=shop,metadata.namespace!=kube-system" {
		t.Errorf("selectors %q %q", e.LabelSelector, e.FieldSelector)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings %q", cfg.Warnings)
	}
	b, ok := cfg.Resources[0].Bind(GroupVersionKind{"argoproj.io", "v1alpha1", "Application"}, "applications")
	if !ok || b.Extensions.LabelSelector != e.LabelSelector {
		t.Errorf("bound %+v", b.Extensions)
	}
}

// Extension keys that do not make sense are one-line errors at their key.
func TestExtensionErrors(t *testing.T) {
	metric := func(gauge string) string {
		return appResource + "      metrics:\n        - name: x\n          each:\n            type: Gauge\n            gauge: " + gauge + "\n"
	}
	for _, c := range []struct{ text, want string }{
		{appResource + "      labelSelector: \"a in (b\"\n", `crs.yaml:8:7: spec.resources[0].labelSelector: not a label selector: `},
		{appResource + "      fieldSelector: \"a==b==c\"\n", `crs.yaml:8:7: spec.resources[0].fieldSelector: not a field selector: `},
		{appResource + "      labelSelector: [a]\n", `crs.yaml:8:7: spec.resources[0].labelSelector: cannot unmarshal !!seq into string`},
		{appResource + "      labelsAllowlist: [\"a*b*\"]\n", `crs.yaml:8:7: spec.resources[0].labelsAllowlist[0]: "a*b*": want a key, with at most one *`},
		{appResource + "      annotationsAllowlist: a\n", `crs.yaml:8:7: spec.resources[0].annotationsAllowlist: cannot unmarshal !!str ` + "`a`" + ` into []string`},
		{metric("{valueFrom: [a], count: true}"), `crs.yaml:12:37: spec.resources[0].metrics[0].each.gauge.count: count and valueFrom (line 12) exclude each other: a gauge takes its value from one`},
		{metric("{constant: 1, valueFromLabel: a}"), `crs.yaml:12:34: spec.resources[0].metrics[0].each.gauge.valueFromLabel: valueFromLabel and constant (line 12) exclude each other: a gauge takes its value from one`},
		{metric("{valueFromAnnotation: a, valueFromLabel: b}"), `exclude each other`},
		{metric("{constant: one}"), `crs.yaml:12:21: spec.resources[0].metrics[0].each.gauge.constant: cannot unmarshal !!str ` + "`one`" + ` into float64`},
		{metric("{valueFromLabel: \"\"}"), `crs.yaml:12:21: spec.resources[0].metrics[0].each.gauge.valueFromLabel: empty: want a key`},
		{metric("{count: true, labelFromKey: k}"), `crs.yaml:12:34: spec.resources[0].metrics[0].each.gauge.labelFromKey: count gives one series per set of labels, not per key: use labelsFromPath`},
	} {
		_, err := Load("crs.yaml", []byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s\ngot %v\nwant %s", c.text, err, c.want)
		}
	}
	// count: false and a null constant are no sources.
	mustLoad(t, metric("{valueFrom: [a], count: false, constant: null}"))
}
