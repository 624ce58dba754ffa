{{/* Names: <fullname>-<component>[-<name>]; fullname is the release name unless overridden. */}}
{{- define "heddle.fullname" -}}
{{- if .Values.fullnameOverride -}}{{ .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else -}}{{ .Release.Name | trunc 40 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "heddle.labels" -}}
app.kubernetes.io/name: {{ .Values.nameOverride | default "heddle" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: dict "root" $ "component" "worker" "actor" "<name>" */}}
{{- define "heddle.selector" -}}
app.kubernetes.io/name: {{ .root.Values.nameOverride | default "heddle" }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
statewave.io/heddle-actor: {{ .actor | quote }}
{{- end -}}

{{/* <registry>/<repository>:<tag>@<digest>, empty parts left out */}}
{{- define "heddle.image" -}}
{{- if .registry }}{{ .registry }}/{{ end }}{{ .repository }}{{ if .tag }}:{{ .tag }}{{ end }}{{ if .digest }}@{{ .digest }}{{ end }}
{{- end -}}

{{- define "heddle.natsService" -}}{{ include "heddle.fullname" . }}-nats{{- end -}}
{{- define "heddle.valkeyService" -}}{{ include "heddle.fullname" . }}-valkey{{- end -}}
{{- define "heddle.natsUrl" -}}nats://{{ include "heddle.natsService" . }}.{{ .Release.Namespace }}.svc:{{ .Values.nats.clientPort }}{{- end -}}
{{- define "heddle.natsMonitorUrl" -}}http://{{ include "heddle.natsService" . }}.{{ .Release.Namespace }}.svc:{{ .Values.nats.monitorPort }}{{- end -}}
{{- define "heddle.valkeyUrl" -}}redis://{{ include "heddle.valkeyService" . }}.{{ .Release.Namespace }}.svc:{{ .Values.valkey.port }}/0{{- end -}}

{{/* Model backend environment (Heddle's own variable names); empty settings are left out. */}}
{{- define "heddle.modelEnv" -}}
{{- $m := .Values.models -}}
{{- range $name, $value := dict "OLLAMA_URL" $m.ollamaUrl "OLLAMA_MODEL" $m.ollamaModel "LM_STUDIO_URL" $m.lmStudioUrl "LM_STUDIO_MODEL" $m.lmStudioModel "HEDDLE_LOCAL_BACKEND" $m.localBackend "FRONTIER_MODEL" $m.frontierModel }}
{{- if $value }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}
{{- if $m.apiKey.existingSecret }}
- name: ANTHROPIC_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $m.apiKey.existingSecret }}
      key: {{ $m.apiKey.key }}
{{- end }}
{{- end -}}

{{/* One actor Deployment (router, orchestrator, pipeline, worker, processor).
     dict "root" $ "component" c "actor" name "name" objectName "replicas" n "hpa" bool
          "args" list "config" mapping "configFile" file "subject" s "queue" q "valkey" bool
          "resources" map "env" list "models" bool */}}
{{- define "heddle.actor" -}}
{{- $root := .root -}}
{{- $sel := dict "root" $root "component" .component "actor" .actor -}}
{{- $configYaml := toYaml .config -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "heddle.labels" $root | nindent 4 }}
    {{- include "heddle.selector" $sel | nindent 4 }}
data:
  {{ .configFile }}: |
    {{- $configYaml | nindent 4 }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "heddle.labels" $root | nindent 4 }}
    {{- include "heddle.selector" $sel | nindent 4 }}
spec:
  {{- if not .hpa }}
  replicas: {{ .replicas }}
  {{- end }}
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      {{- include "heddle.selector" $sel | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "heddle.labels" $root | nindent 8 }}
        {{- include "heddle.selector" $sel | nindent 8 }}
      annotations:
        checksum/config: {{ $configYaml | sha256sum }}
        checksum/scripts: {{ include (print $root.Template.BasePath "/scripts.yaml") $root | sha256sum }}
    spec:
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      automountServiceAccountToken: false
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      volumes:
        - name: config
          configMap:
            name: {{ .name }}
        - name: scripts
          configMap:
            name: {{ include "heddle.fullname" $root }}-scripts
        - name: tmp
          emptyDir: {}
      initContainers:
        # NATS (and Valkey for the orchestrator) answer before the actor starts: no crash loop.
        - name: wait-for-bus
          image: {{ include "heddle.image" $root.Values.image | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: ["python3", "/opt/heddle-k8s/wait.py", "--nats-monitor-url", {{ include "heddle.natsMonitorUrl" $root | quote }}
            {{- if .valkey }}, "--redis-url", {{ include "heddle.valkeyUrl" $root | quote }}{{ end }}]
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          resources:
            requests: {cpu: 10m, memory: 32Mi}
            limits: {cpu: 200m, memory: 64Mi}
          volumeMounts:
            - {name: scripts, mountPath: /opt/heddle-k8s, readOnly: true}
      containers:
        - name: {{ .component }}
          image: {{ include "heddle.image" $root.Values.image | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args:
            {{- toYaml .args | nindent 12 }}
          env:
            - name: NATS_URL
              value: {{ include "heddle.natsUrl" $root | quote }}
            - name: HOME
              value: /tmp
            - name: POD_IP
              valueFrom: {fieldRef: {fieldPath: status.podIP}}
            - name: POD_IPS
              valueFrom: {fieldRef: {fieldPath: status.podIPs}}
            {{- with .env }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
            {{- if .models }}
            {{- include "heddle.modelEnv" $root | nindent 12 }}
            {{- end }}
            {{- with $root.Values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          resources:
            {{- toYaml .resources | nindent 12 }}
          volumeMounts:
            - {name: config, mountPath: /etc/heddle, readOnly: true}
            - {name: scripts, mountPath: /opt/heddle-k8s, readOnly: true}
            - {name: tmp, mountPath: /tmp}
          {{- if $root.Values.actorProbes.enabled }}
          {{- $probe := list "python3" "/opt/heddle-k8s/probe.py" "--monitor-url" (include "heddle.natsMonitorUrl" $root) "--subject" .subject "--queue" .queue }}
          {{- $p := $root.Values.actorProbes }}
          startupProbe:
            exec:
              command: {{ concat $probe (list "--mode" "readiness") | toJson }}
            {{- toYaml $p.startup | nindent 12 }}
          readinessProbe:
            exec:
              command: {{ concat $probe (list "--mode" "readiness") (ternary (list "--redis-url" (include "heddle.valkeyUrl" $root)) (list) (.valkey | default false)) | toJson }}
            {{- toYaml $p.readiness | nindent 12 }}
          livenessProbe:
            exec:
              command: {{ concat $probe (list "--mode" "liveness") | toJson }}
            {{- toYaml $p.liveness | nindent 12 }}
          {{- end }}
{{- end -}}
