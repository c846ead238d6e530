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
{{- if and .Values.webhook.enabled (eq .Values.webhook.certs.mode "operator") (gt (int .Values.replicas) 1) -}}
{{- fail "webhook.certs.mode=operator makes one certificate per replica: use helm or cert-manager with replicas > 1" -}}
{{- end -}}
{{- end -}}
