{{/* Names, labels and security contexts every template uses. */}}

{{- define "floe.chart" -}}
{{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Recommended labels plus the component: (dict "root" $ "component" "polaris") */}}
{{- define "floe.labels" -}}
app.kubernetes.io/name: floe-platform
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: floe
app.kubernetes.io/component: {{ .component }}
helm.sh/chart: {{ include "floe.chart" .root }}
{{- end }}

{{- define "floe.selector" -}}
app.kubernetes.io/name: floe-platform
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* metadata of a namespaced object: (dict "root" $ "component" "x" "name" "y") */}}
{{- define "floe.meta" -}}
name: {{ .name }}
namespace: {{ .root.Release.Namespace }}
labels:
  {{- include "floe.labels" . | nindent 2 }}
{{- end }}

{{/* Pod securityContext (restricted): (dict "uid" 1000) */}}
{{- define "floe.podSecurity" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "floe.containerSecurity" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "floe.image" -}}
{{ .repository }}:{{ .tag }}
{{- end }}

{{- define "floe.floeImage" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* In-cluster URL of a Service of this release: (dict "root" $ "svc" "polaris" "port" 8181) */}}
{{- define "floe.url" -}}
http://{{ .svc }}.{{ .root.Release.Namespace }}.svc.{{ .root.Values.clusterDomain }}:{{ .port }}
{{- end }}

{{- define "floe.s3Endpoint" -}}
{{- if .Values.objectStorage.endpoint -}}
{{ .Values.objectStorage.endpoint }}
{{- else -}}
{{ include "floe.url" (dict "root" . "svc" "minio" "port" 9000) }}
{{- end -}}
{{- end }}

{{- define "floe.pgHost" -}}
{{- if .Values.postgresql.enabled -}}
postgresql.{{ .Release.Namespace }}.svc.{{ .Values.clusterDomain }}
{{- else -}}
{{ required "postgresql.external.host is required when postgresql.enabled is false" .Values.postgresql.external.host }}
{{- end -}}
{{- end }}

{{- define "floe.pgPort" -}}
{{ if .Values.postgresql.enabled }}5432{{ else }}{{ .Values.postgresql.external.port }}{{ end }}
{{- end }}

{{- define "floe.manifestConfigMap" -}}
{{ .Values.platformManifest.existingConfigMap | default "floe-manifest" }}
{{- end }}

{{/* A scratch volume list entry: (dict "name" "tmp") */}}
{{- define "floe.emptyDir" -}}
- name: {{ .name }}
  emptyDir:
    sizeLimit: {{ .size | default "1Gi" }}
{{- end }}

{{/* env of the object storage credentials from the existing Secret */}}
{{- define "floe.s3Env" -}}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef: {name: {{ .Values.objectStorage.existingSecret }}, key: {{ .Values.objectStorage.accessKeyIdKey }}}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef: {name: {{ .Values.objectStorage.existingSecret }}, key: {{ .Values.objectStorage.secretAccessKeyKey }}}
- name: AWS_REGION
  value: {{ .Values.objectStorage.region | quote }}
{{- end }}

{{- define "floe.pgPasswordEnv" -}}
- name: {{ .var }}
  valueFrom:
    secretKeyRef: {name: {{ .root.Values.postgresql.auth.existingSecret }}, key: {{ .root.Values.postgresql.auth.passwordKey }}}
{{- end }}
