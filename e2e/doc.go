// Package e2e runs kube-state-push against a real kube-apiserver (with etcd,
// kube-controller-manager, kube-scheduler and kwok nodes) and a real Prometheus
// receiver, all started by hack/cluster.sh, and checks what lands in Prometheus
// through its query API.
package e2e
