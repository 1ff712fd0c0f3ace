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

{{/* Marquez's database, as the platform manifest chooses (platform.marquez.database, read
from platformManifest.content; with an existingConfigMap the chart cannot read it: shared).
shared: its own database on the platform's PostgreSQL with its credentials; dedicated: the
manifest's server, user and database, the password from the Secret marquez.existingSecret
under the key the manifest's {secret: NAME} names. A YAML map: dedicated, host, port, name,
user, passwordSecret, passwordKey. */}}
{{- define "floe.marquezDb" -}}
{{- $m := dict }}
{{- if .Values.platformManifest.content }}{{ $m = .Values.platformManifest.content | fromYaml }}{{ end }}
{{- $db := dig "platform" "marquez" "database" dict $m }}
{{- if eq (get $db "mode" | default "shared") "dedicated" }}
dedicated: true
host: {{ required "platform.marquez.database.host is required for mode dedicated" (get $db "host") | quote }}
port: {{ get $db "port" | default 5432 | int }}
name: {{ get $db "name" | default "marquez" | quote }}
user: {{ required "platform.marquez.database.user is required for mode dedicated" (get $db "user") | quote }}
passwordSecret: {{ .Values.marquez.existingSecret | quote }}
passwordKey: {{ required "platform.marquez.database.password ({secret: NAME}) is required for mode dedicated" (dig "password" "secret" "" $db) | quote }}
{{- else }}
dedicated: false
host: {{ include "floe.pgHost" . | quote }}
port: {{ include "floe.pgPort" . | int }}
name: {{ get $db "name" | default .Values.postgresql.databases.marquez | quote }}
user: {{ .Values.postgresql.username | quote }}
passwordSecret: {{ .Values.postgresql.auth.existingSecret | quote }}
passwordKey: {{ .Values.postgresql.auth.passwordKey | quote }}
{{- end }}
{{- end }}
