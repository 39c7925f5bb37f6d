{{/* Names. */}}
{{- define "ksp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ksp.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ksp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ksp.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ksp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ksp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ksp.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "ksp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "ksp.leaseName" -}}
{{- default (include "ksp.fullname" .) .Values.ha.leaseName }}
{{- end }}

{{/*
Resource table: API group and whether the resource is namespaced, for every resource the
agent can watch. It must match `kube-state-push --print-rbac` (charts/chart_test.go checks).
*/}}
{{- define "ksp.resourceTable" -}}
certificatesigningrequests: {group: certificates.k8s.io, namespaced: false}
clusterrolebindings: {group: rbac.authorization.k8s.io, namespaced: false}
clusterroles: {group: rbac.authorization.k8s.io, namespaced: false}
configmaps: {group: "", namespaced: true}
cronjobs: {group: batch, namespaced: true}
daemonsets: {group: apps, namespaced: true}
deployments: {group: apps, namespaced: true}
endpoints: {group: "", namespaced: true}
endpointslices: {group: discovery.k8s.io, namespaced: true}
horizontalpodautoscalers: {group: autoscaling, namespaced: true}
ingressclasses: {group: networking.k8s.io, namespaced: false}
ingresses: {group: networking.k8s.io, namespaced: true}
jobs: {group: batch, namespaced: true}
leases: {group: coordination.k8s.io, namespaced: true}
limitranges: {group: "", namespaced: true}
mutatingadmissionpolicies: {group: admissionregistration.k8s.io, namespaced: false}
mutatingadmissionpolicybindings: {group: admissionregistration.k8s.io, namespaced: false}
mutatingwebhookconfigurations: {group: admissionregistration.k8s.io, namespaced: false}
namespaces: {group: "", namespaced: false}
networkpolicies: {group: networking.k8s.io, namespaced: true}
nodes: {group: "", namespaced: false}
persistentvolumeclaims: {group: "", namespaced: true}
persistentvolumes: {group: "", namespaced: false}
poddisruptionbudgets: {group: policy, namespaced: true}
pods: {group: "", namespaced: true}
replicasets: {group: apps, namespaced: true}
replicationcontrollers: {group: "", namespaced: true}
resourcequotas: {group: "", namespaced: true}
rolebindings: {group: rbac.authorization.k8s.io, namespaced: true}
roles: {group: rbac.authorization.k8s.io, namespaced: true}
secrets: {group: "", namespaced: true}
serviceaccounts: {group: "", namespaced: true}
services: {group: "", namespaced: true}
statefulsets: {group: apps, namespaced: true}
storageclasses: {group: storage.k8s.io, namespaced: false}
validatingadmissionpolicies: {group: admissionregistration.k8s.io, namespaced: false}
validatingadmissionpolicybindings: {group: admissionregistration.k8s.io, namespaced: false}
validatingwebhookconfigurations: {group: admissionregistration.k8s.io, namespaced: false}
volumeattachments: {group: storage.k8s.io, namespaced: false}
{{- end }}

{{/*
ksp.watchRules: list/watch rules for the collectors selected by "scope": "all",
"cluster" (cluster-scoped only) or "namespaced"; one rule per API group, groups and
resources sorted, as --print-rbac prints them. Renders nothing when no resource matches.
*/}}
{{- define "ksp.watchRules" -}}
{{- $table := include "ksp.resourceTable" .root | fromYaml }}
{{- $byGroup := dict }}
{{- range $r := .root.Values.collectors | uniq }}
{{- $e := required (printf "collectors: unknown resource %q" $r) (get $table $r) }}
{{- if or (eq $.scope "all") (and (eq $.scope "cluster") (not $e.namespaced)) (and (eq $.scope "namespaced") $e.namespaced) }}
{{- $_ := set $byGroup $e.group (append (get $byGroup $e.group | default list) $r) }}
{{- end }}
{{- end }}
{{- range $g := keys $byGroup | sortAlpha }}
- apiGroups: [{{ $g | quote }}]
  resources: [{{ get $byGroup $g | sortAlpha | join ", " }}]
  verbs: [list, watch]
{{- end }}
{{- end }}

{{/* The workload is a StatefulSet when sharding or when the WAL is on a claim. */}}
{{- define "ksp.statefulSet" -}}
{{- if or .Values.sharding.enabled (and .Values.wal.enabled .Values.wal.persistence.enabled) }}true{{ end }}
{{- end }}

{{- define "ksp.replicas" -}}
{{- if .Values.sharding.enabled }}{{ .Values.sharding.shards }}{{ else }}{{ .Values.replicas }}{{ end }}
{{- end }}

{{/*
ksp.walVolumeSize: wal.volumeSize, or twice wal.maxSize (see values.yaml): "1Gi" -> "2Gi",
"512Mi" -> "1024Mi", "100M" -> "200M".
*/}}
{{- define "ksp.walVolumeSize" -}}
{{- if .Values.wal.volumeSize }}
{{- .Values.wal.volumeSize }}
{{- else }}
{{- $s := toString .Values.wal.maxSize }}
{{- $n := regexFind "^[0-9]+" $s }}
{{- printf "%d%s" (mul (int64 $n) 2) (trimPrefix $n $s) }}
{{- end }}
{{- end }}

{{/* Checks the values that the schema cannot tie together. */}}
{{- define "ksp.validate" -}}
{{- if not .Values.remoteWrite }}
{{- fail "remoteWrite: at least one endpoint is required, e.g. --set 'remoteWrite[0].url=https://<host>/api/v1/push'" }}
{{- end }}
{{- if and .Values.sharding.enabled (ne .Values.ha.mode "none") }}
{{- fail "sharding.enabled and ha.mode cannot be combined: each shard is a single sender" }}
{{- end }}
{{- if and (not .Values.sharding.enabled) (gt (int .Values.replicas) 1) (eq .Values.ha.mode "none") }}
{{- fail "replicas > 1 needs ha.mode leader or replica-labels: replicas without HA would send conflicting samples" }}
{{- end }}
{{- if and (eq .Values.ha.mode "replica-labels") (not .Values.ha.cluster) }}
{{- fail "ha.cluster is required with ha.mode replica-labels" }}
{{- end }}
{{- end }}

{{/* The agent's --config file: its options, then Prometheus's external_labels and remote_write. */}}
{{- define "ksp.configFile" -}}
{{- $c := .Values.config }}
{{- $file := dict "resources" (.Values.collectors | uniq | sortAlpha) }}
{{- with .Values.namespaces }}{{ $_ := set $file "namespaces" . }}{{ end }}
{{- with .Values.namespacesDenylist }}{{ $_ := set $file "namespaces_denylist" . }}{{ end }}
{{- with $c.metricAllowlist }}{{ $_ := set $file "metric_allowlist" . }}{{ end }}
{{- with $c.metricDenylist }}{{ $_ := set $file "metric_denylist" . }}{{ end }}
{{- with $c.metricOptInList }}{{ $_ := set $file "metric_opt_in_list" . }}{{ end }}
{{- with $c.labelsAllowList }}{{ $_ := set $file "labels_allow_list" . }}{{ end }}
{{- with $c.annotationsAllowList }}{{ $_ := set $file "annotations_allow_list" . }}{{ end }}
{{- with $c.seriesLabels }}{{ $_ := set $file "series_labels" . }}{{ end }}
{{- $_ := set $file "use_api_server_cache" $c.useApiServerCache }}
{{- $_ := set $file "resend_interval" $c.resendInterval }}
{{- $_ := set $file "job" $c.job }}
{{- $_ := set $file "instance" $c.instance }}
{{- $_ := set $file "flush_interval" $c.flushInterval }}
{{- $_ := set $file "flush_deadline" $c.flushDeadline }}
{{- $_ := set $file "max_pending_samples" (int $c.maxPendingSamples) }}
{{- $_ := set $file "log_level" $c.logLevel }}
{{- $_ := set $file "log_format" $c.logFormat }}
{{- $_ := set $file "telemetry_address" (printf ":%d" (int .Values.telemetry.port)) }}
{{- if .Values.metricsEndpoint.enabled }}
{{- $_ := set $file "metrics_address" (printf ":%d" (int .Values.metricsEndpoint.port)) }}
{{- $_ := set $file "enable_gzip_encoding" .Values.metricsEndpoint.gzip }}
{{- end }}
{{- if .Values.wal.enabled }}
{{- $_ := set $file "wal_dir" "/var/lib/kube-state-push/wal" }}
{{- $_ := set $file "wal_max_size" (toString .Values.wal.maxSize) }}
{{- end }}
{{- toYaml $file }}
{{- with .Values.externalLabels }}
external_labels:
  {{- toYaml . | nindent 2 }}
{{- end }}
remote_write:
{{- toYaml .Values.remoteWrite | nindent 2 }}
{{- end }}
