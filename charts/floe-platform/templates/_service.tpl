{{/*
A stateless service: ServiceAccount (no token), Service and Deployment with the restricted
security contexts. (dict "root" $ "component" "jaeger" "name" "jaeger" "v" .Values.jaeger
  "ports" (list (dict "name" "http" "port" 16686)) "probe" (dict "path" "/" "port" "admin")
  "args" (list ...) "env" "<yaml>" "mounts" "<yaml>" "volumes" "<yaml>")
*/}}
{{- define "floe.service" -}}
{{- $c := dict "root" .root "component" .component "name" .name }}
apiVersion: v1
kind: ServiceAccount
metadata:
  {{- include "floe.meta" $c | nindent 2 }}
automountServiceAccountToken: false
---
apiVersion: v1
kind: Service
metadata:
  {{- include "floe.meta" $c | nindent 2 }}
spec:
  selector:
    {{- include "floe.selector" $c | nindent 4 }}
  ports:
    {{- range .ports }}
    - {name: {{ .name }}, port: {{ .port }}, targetPort: {{ .name }}}
    {{- end }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  {{- include "floe.meta" $c | nindent 2 }}
spec:
  replicas: 1
  selector:
    matchLabels:
      {{- include "floe.selector" $c | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "floe.labels" $c | nindent 8 }}
      {{- with .checksum }}
      annotations:
        checksum/config: {{ . }}
      {{- end }}
    spec:
      serviceAccountName: {{ .name }}
      automountServiceAccountToken: false
      securityContext:
        {{- include "floe.podSecurity" (dict "uid" .v.runAsUser) | nindent 8 }}
      containers:
        - name: {{ .name }}
          image: {{ include "floe.image" .v.image }}
          {{- with .args }}
          args:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with .env }}
          env:
            {{- . | nindent 12 }}
          {{- end }}
          ports:
            {{- range .ports }}
            - {name: {{ .name }}, containerPort: {{ .port }}}
            {{- end }}
          readinessProbe:
            httpGet: {path: {{ .probe.path }}, port: {{ .probe.port }}}
            periodSeconds: 10
          livenessProbe:
            httpGet: {path: {{ .probe.path }}, port: {{ .probe.port }}}
            initialDelaySeconds: 30
            periodSeconds: 20
            failureThreshold: 5
          securityContext:
            {{- include "floe.containerSecurity" .root | nindent 12 }}
          resources:
            {{- toYaml .v.resources | nindent 12 }}
          volumeMounts:
            - {name: tmp, mountPath: /tmp}
            {{- with .mounts }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        {{- include "floe.emptyDir" (dict "name" "tmp") | nindent 8 }}
        {{- with .volumes }}
        {{- . | nindent 8 }}
        {{- end }}
{{- end }}
