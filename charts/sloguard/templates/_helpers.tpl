{{- define "sloguard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sloguard.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "sloguard.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "sloguard.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "sloguard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sloguard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sloguard.labels" -}}
{{ include "sloguard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: sloguard
{{- end -}}

{{- define "sloguard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sloguard.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "sloguard.webhookService" -}}
{{- printf "%s-webhook" (include "sloguard.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sloguard.metricsService" -}}
{{- printf "%s-metrics" (include "sloguard.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sloguard.certSecret" -}}
{{- printf "%s-webhook-tls" (include "sloguard.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The kopf peering name: the release, so two releases never share a peering. */}}
{{- define "sloguard.peering" -}}
{{- include "sloguard.fullname" . -}}
{{- end -}}

{{- define "sloguard.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "sloguard.validate" -}}
{{- if not (has .Values.enforcement.mechanism (list "admissionPolicy" "webhook" "none")) -}}
{{- fail "enforcement.mechanism must be admissionPolicy, webhook or none" -}}
{{- end -}}
{{- if and (eq .Values.enforcement.mechanism "webhook") (not .Values.webhook.enabled) -}}
{{- fail "enforcement.mechanism=webhook needs webhook.enabled=true" -}}
{{- end -}}
{{- if not (has .Values.webhook.certs.mode (list "helm" "cert-manager" "operator")) -}}
{{- fail "webhook.certs.mode must be helm, cert-manager or operator" -}}
{{- end -}}
{{- $m := .Values.metrics -}}
{{- if and (not $m.enabled) (or $m.serviceMonitor.enabled $m.alerts.enabled) -}}
{{- fail "metrics.serviceMonitor and metrics.alerts need metrics.enabled=true (they read the operator's /metrics)" -}}
{{- end -}}
{{- if or (lt (int $m.port) 1) (gt (int $m.port) 65535) (eq (int $m.port) 8080) (eq (int $m.port) (int .Values.webhook.port)) -}}
{{- fail "metrics.port must be a free port from 1 to 65535 (8080 is the health port, webhook.port the webhook's)" -}}
{{- end -}}
{{- if and .Values.webhook.enabled (eq .Values.webhook.certs.mode "operator") (gt (int .Values.replicas) 1) -}}
{{- fail "webhook.certs.mode=operator makes one certificate per replica: use helm or cert-manager with replicas > 1" -}}
{{- end -}}
{{- end -}}
