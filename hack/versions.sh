# The versions of every component the scripts build and run, from the Go module proxy;
# each can be overridden from the environment. Sourced by build-components.sh,
# cluster.sh and receivers.sh.
K8S_VERSION=${K8S_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.7.3}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
PROMETHEUS_VERSION=${PROMETHEUS_VERSION:-v0.316.0}
KSM_VERSION=${KSM_VERSION:-v2.20.0}
HELM_VERSION=${HELM_VERSION:-v3.22.0}
KUBECONFORM_VERSION=${KUBECONFORM_VERSION:-v0.8.0}
# Remote-write receivers the e2e suite pushes to (hack/receivers.sh starts them).
MIMIR_VERSION=${MIMIR_VERSION:-v1.3.1-0.20260423142704-aced80d74930}
CORTEX_VERSION=${CORTEX_VERSION:-v1.21.1}
THANOS_VERSION=${THANOS_VERSION:-v0.42.5}
THANOS_GO=${THANOS_GO:-go1.26.10}
VM_VERSION=${VM_VERSION:-v1.151.0}
OTELCOL_VERSION=${OTELCOL_VERSION:-v0.148.0}
OTELCOL_CORE_VERSION=${OTELCOL_CORE_VERSION:-v1.54.0}
PROMETHEUS2_VERSION=${PROMETHEUS2_VERSION:-v0.42.0}
# Developer tools (hack/tools.sh builds them; `make lint` runs golangci-lint).
GOLANGCI_LINT_VERSION=${GOLANGCI_LINT_VERSION:-v2.15.0}
