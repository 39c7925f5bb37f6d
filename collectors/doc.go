// Package collectors turns typed Kubernetes objects into the series that
// kube-state-metrics v2.20 exposes for them, label for label and value for value.
//
// Each resource lives in its own file (pod.go, deployment.go, ...), and
// registry.go lists them all in one place; adding a resource is adding its
// file and one line there. Generators are pure: they do no I/O, keep no state
// and never fail. Malformed input produces fewer series, never an error. The
// package owns no goroutines.
//
// The package is the first stage of the data path and knows nothing of what
// follows: it must not import the snapshot, the WAL or the agent. Object in,
// series out; what changed, and when it is sent, is the snapshot's business.
package collectors
