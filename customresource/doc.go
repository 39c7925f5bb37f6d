// Package customresource is kube-state-metrics' custom resource state (KSM's
// --custom-resource-state-config) without its client: it reads a
// CustomResourceStateMetrics config as KSM v2.20 reads it (Load), and turns
// one unstructured custom object into exactly the series KSM v2.20 produces
// for it with that config (NewGenerator, a collectors.Generator).
//
// The package owns the config's grammar and positioned errors, the path
// language of path, valueFrom and labelsFromPath, KSM's value conversions and
// the per-object evaluation of the Gauge, StateSet and Info types. A field
// that does not match the config never fails or stops anything: it gives the
// series KSM gives and is reported to Options.OnError.
//
// It is pure: no I/O, no goroutines, no Kubernetes client, no clock. Resolving
// wildcard groupVersionKinds through discovery and watching the objects are
// the agent's business (Resource.HasWildcard, Resource.Bind); the package must
// not import the agent, the snapshot or walpipe.
package customresource
