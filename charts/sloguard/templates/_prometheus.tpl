{{/*
The Prometheus connection (values.prometheus) as `sloguard run` flags and Secret/ConfigMap
mounts. Secrets are mounted as whole volumes (never subPath) so a rotated Secret reaches the
files, which the operator re-reads when they change.
*/}}
{{- define "sloguard.prometheus.dir" -}}/etc/sloguard/prometheus{{- end -}}

{{- define "sloguard.prometheus.validate" -}}
{{- $p := .Values.prometheus -}}
{{- if and $p.bearerTokenSecret.name $p.basicAuth.username -}}
{{- fail "prometheus: give either bearerTokenSecret or basicAuth, not both" -}}
{{- end -}}
{{- if and $p.bearerTokenSecret.name (not $p.bearerTokenSecret.key) -}}
{{- fail "prometheus.bearerTokenSecret needs name and key" -}}
{{- end -}}
{{- if and $p.basicAuth.username (not (and $p.basicAuth.passwordSecret.name $p.basicAuth.passwordSecret.key)) -}}
{{- fail "prometheus.basicAuth.username needs passwordSecret.name and passwordSecret.key" -}}
{{- end -}}
{{- if and $p.tls.ca.configMap $p.tls.ca.secret -}}
{{- fail "prometheus.tls.ca: give configMap or secret, not both" -}}
{{- end -}}
{{- if and (or $p.tls.ca.configMap $p.tls.ca.secret) (not $p.tls.ca.key) -}}
{{- fail "prometheus.tls.ca needs key (the PEM bundle's key in the ConfigMap or Secret)" -}}
{{- end -}}
{{- range $name, $value := $p.headers -}}
{{- if not (regexMatch "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" $name) -}}
{{- fail (printf "prometheus.headers: %q is not a valid HTTP header name" $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "sloguard.prometheus.args" -}}
{{- include "sloguard.prometheus.validate" . -}}
{{- $p := .Values.prometheus -}}
{{- $dir := include "sloguard.prometheus.dir" . -}}
{{- with $p.url }}
- --prometheus={{ . }}
{{- end }}
{{- if $p.bearerTokenSecret.name }}
- --prometheus-bearer-token-file={{ $dir }}/token/token
{{- end }}
{{- if $p.basicAuth.username }}
- --prometheus-username={{ $p.basicAuth.username }}
- --prometheus-password-file={{ $dir }}/basic-auth/password
{{- end }}
{{- if or $p.tls.ca.configMap $p.tls.ca.secret }}
- --prometheus-ca-file={{ $dir }}/ca/ca.crt
{{- end }}
{{- if $p.tls.clientCertSecret }}
- --prometheus-cert-file={{ $dir }}/client/tls.crt
- --prometheus-key-file={{ $dir }}/client/tls.key
{{- end }}
{{- range $name, $value := $p.headers }}
- {{ printf "--prometheus-header=%s: %s" $name $value | quote }}
{{- end }}
{{- with $p.timeout }}
- --prometheus-timeout={{ . }}
{{- end }}
{{- if $p.tls.insecureSkipVerify }}
- --prometheus-insecure-skip-verify
{{- end }}
{{- end -}}

{{- define "sloguard.prometheus.volumeMounts" -}}
{{- $p := .Values.prometheus -}}
{{- $dir := include "sloguard.prometheus.dir" . -}}
{{- if $p.bearerTokenSecret.name }}
- name: prometheus-token
  mountPath: {{ $dir }}/token
  readOnly: true
{{- end }}
{{- if $p.basicAuth.username }}
- name: prometheus-basic-auth
  mountPath: {{ $dir }}/basic-auth
  readOnly: true
{{- end }}
{{- if or $p.tls.ca.configMap $p.tls.ca.secret }}
- name: prometheus-ca
  mountPath: {{ $dir }}/ca
  readOnly: true
{{- end }}
{{- if $p.tls.clientCertSecret }}
- name: prometheus-client-cert
  mountPath: {{ $dir }}/client
  readOnly: true
{{- end }}
{{- end -}}

{{- define "sloguard.prometheus.volumes" -}}
{{- $p := .Values.prometheus -}}
{{- if $p.bearerTokenSecret.name }}
- name: prometheus-token
  secret:
    secretName: {{ $p.bearerTokenSecret.name }}
    defaultMode: 0440
    items:
      - {key: {{ $p.bearerTokenSecret.key | quote }}, path: token}
{{- end }}
{{- if $p.basicAuth.username }}
- name: prometheus-basic-auth
  secret:
    secretName: {{ $p.basicAuth.passwordSecret.name }}
    defaultMode: 0440
    items:
      - {key: {{ $p.basicAuth.passwordSecret.key | quote }}, path: password}
{{- end }}
{{- if $p.tls.ca.configMap }}
- name: prometheus-ca
  configMap:
    name: {{ $p.tls.ca.configMap }}
    items:
      - {key: {{ $p.tls.ca.key | quote }}, path: ca.crt}
{{- else if $p.tls.ca.secret }}
- name: prometheus-ca
  secret:
    secretName: {{ $p.tls.ca.secret }}
    defaultMode: 0440
    items:
      - {key: {{ $p.tls.ca.key | quote }}, path: ca.crt}
{{- end }}
{{- if $p.tls.clientCertSecret }}
- name: prometheus-client-cert
  secret:
    secretName: {{ $p.tls.clientCertSecret }}
    defaultMode: 0440
    items:
      - {key: tls.crt, path: tls.crt}
      - {key: tls.key, path: tls.key}
{{- end }}
{{- end -}}
