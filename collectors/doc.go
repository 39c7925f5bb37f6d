// Package collectors turns typed Kubernetes objects into the series that
// kube-state-metrics v2.20 exposes for them, label for label and value for value.
//
// Each resource lives in its own file (pod.go, deployment.go, ...) and registers
// itself with the package registry; adding a resource is adding one file.
// Generators are pure: they do no I/O, keep no state and never fail. Malformed
// input produces fewer series, never an error. The package owns no goroutines.
package collectors
