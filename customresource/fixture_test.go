package customresource

// crJSON is the custom resource of KSM's registry_factory_test.go (cr),
// numbers float64 as json.Unmarshal gives them there.
const crJSON = `{
  "spec": {
    "replicas": 1,
    "version": "v0.0.0",
    "order": [{"id": 1, "value": true}, {"id": 3, "value": false}]
  },
  "status": {
    "active": {"type-a": 1, "type-b": 3},
    "phase": "foo",
    "sub": {"type-a": {"active": 1, "ready": 2}, "type-b": {"active": 3, "ready": 4}},
    "uptime": 43.21,
    "quantity_milli": "250m",
    "quantity_binarySI": "5Gi",
    "percentage": "28%",
    "condition_values": [{"name": "a", "value": 45}, {"name": "b", "value": 66}],
    "conditions": [{"type": "Ready", "status": "True"}, {"type": "Provisioned", "status": "False"}]
  },
  "metadata": {
    "name": "foo",
    "labels": {"foo": "bar"},
    "annotations": {"qux": "quxx", "bar": "baz"},
    "percentage": "39%",
    "creationTimestamp": "2022-06-28T00:00:00Z"
  }
}`

// fooJSON is the Foo object of KSM's docs (customresourcestate-metrics.md,
// "Examples").
const fooJSON = `{
  "kind": "Foo",
  "apiVersion": "myteam.io/vl",
  "metadata": {
    "annotations": {"bar": "baz", "qux": "quxx"},
    "labels": {"foo": "bar"},
    "name": "foo"
  },
  "spec": {
    "version": "v1.2.3",
    "order": [{"id": 1, "value": true}, {"id": 3, "value": false}],
    "replicas": 1,
    "refs": ["my_other_foo", "foo_2", "foo_with_extensions"]
  },
  "status": {
    "phase": "Pending",
    "active": {"type-a": 1, "type-b": 3},
    "conditions": [{"name": "a", "value": 45}, {"name": "b", "value": 66}],
    "sub": {"type-a": {"active": 1, "ready": 2}, "type-b": {"active": 3, "ready": 4}},
    "uptime": 43.21
  }
}`

// fooResource is the head of the docs' configs: resource Foo of myteam.io/v1.
const fooResource = `kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind:
        group: myteam.io
        kind: "Foo"
        version: "v1"
`

// gvkLabels are the labels every series of fooResource carries, in KSM's order.
const gvkLabels = `customresource_group="myteam.io",customresource_kind="Foo",customresource_version="v1"`
