{{/* Chart name. */}}
{{- define "tts-predictor.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name = InferenceService name. KServe derives `<name>-predictor-...` from it, so keep it short. */}}
{{- define "tts-predictor.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 45 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 45 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 45 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tts-predictor.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "tts-predictor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels KServe puts on the predictor pods. */}}
{{- define "tts-predictor.predictorSelector" -}}
serving.kserve.io/inferenceservice: {{ include "tts-predictor.fullname" . }}
component: predictor
{{- end }}

{{- define "tts-predictor.image" -}}
{{- $tag := .Values.image.tag | default (ternary (printf "%s-cuda" .Chart.AppVersion) .Chart.AppVersion .Values.gpu.enabled) }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}

{{- define "tts-predictor.apiKeysSecret" -}}
{{- if .Values.apiKeys.existingSecret }}{{ .Values.apiKeys.existingSecret }}{{ else if .Values.apiKeys.keys }}{{ include "tts-predictor.fullname" . }}-api-keys{{ end }}
{{- end }}

{{/* Claim holding the cloned voices: the existing one, or the one the chart creates. */}}
{{- define "tts-predictor.clonedVoicesClaim" -}}
{{- .Values.clonedVoices.persistence.existingClaim | default (printf "%s-cloned-voices" (include "tts-predictor.fullname" .)) }}
{{- end }}

{{/* Cluster-local V2 infer URL of an InferenceService: (list ctx isvcName modelName). */}}
{{- define "tts-predictor.inferUrl" -}}
{{- $ctx := index . 0 }}
{{- printf "http://%s.%s.svc.cluster.local/v2/models/%s/infer" (index . 1) $ctx.Release.Namespace (index . 2) }}
{{- end }}

{{/* Fail early on value combinations that would render but not work. */}}
{{- define "tts-predictor.validateValues" -}}
{{- $v := .Values }}
{{- if not (has $v.model.source (list "embedded" "coqui" "storageUri")) }}
{{- fail (printf "model.source must be embedded, coqui or storageUri, got %q" $v.model.source) }}
{{- end }}
{{- if and (eq $v.model.source "storageUri") (not $v.model.storageUri) }}
{{- fail "model.source=storageUri needs model.storageUri (e.g. s3://bucket/voices/en)" }}
{{- end }}
{{- if and (eq $v.model.source "coqui") (not $v.model.coquiName) }}
{{- fail "model.source=coqui needs model.coquiName (e.g. tts_models/en/ljspeech/vits)" }}
{{- end }}
{{- if and $v.gpu.enabled (eq $v.arch "arm64") (not $v.gpu.allowArm64) }}
{{- fail "gpu.enabled with arch=arm64: the CUDA image is amd64-only; set gpu.allowArm64=true if you built one for arm64" }}
{{- end }}
{{- if eq $v.autoscaling.class "kpa" }}
{{- if not (has $v.autoscaling.metric (list "concurrency" "rps")) }}
{{- fail (printf "autoscaling.class=kpa supports metric concurrency or rps, got %q (cpu/memory need class hpa)" $v.autoscaling.metric) }}
{{- end }}
{{- if eq $v.inferenceService.deploymentMode "RawDeployment" "Standard" }}
{{- fail "autoscaling.class=kpa needs Knative (Serverless mode); use class hpa with RawDeployment/Standard" }}
{{- end }}
{{- else if eq $v.autoscaling.class "hpa" }}
{{- if not (has $v.autoscaling.metric (list "cpu" "memory")) }}
{{- fail (printf "autoscaling.class=hpa supports metric cpu or memory, got %q" $v.autoscaling.metric) }}
{{- end }}
{{- if lt (int $v.autoscaling.minReplicas) 1 }}
{{- fail "autoscaling.minReplicas=0 (scale-to-zero) needs class kpa" }}
{{- end }}
{{- if eq $v.inferenceService.deploymentMode "Serverless" }}
{{- fail "autoscaling.class=hpa needs deploymentMode RawDeployment or Standard" }}
{{- end }}
{{- else }}
{{- fail (printf "autoscaling.class must be kpa or hpa, got %q" $v.autoscaling.class) }}
{{- end }}
{{- if gt (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas) }}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" }}
{{- end }}
{{- if and $v.ray.enabled (gt (float64 $v.ray.gpusPerReplica) 0.0) (not $v.gpu.enabled) }}
{{- fail "ray.gpusPerReplica > 0 needs gpu.enabled" }}
{{- end }}
{{- if and $v.graph.enabled $v.grpc.enabled }}
{{- fail "graph.enabled sends REST V2 requests; it cannot target a predictor with grpc.enabled" }}
{{- end }}
{{- if and $v.grpc.enabled $v.transformer.enabled }}
{{- fail "transformer.enabled talks REST V2 to the predictor; disable grpc.enabled" }}
{{- end }}
{{- $voices := $v.clonedVoices.persistence }}
{{- if $voices.enabled }}
{{- if has $voices.mountPath (list "/var/cache/tts" "/tmp" "/mnt/models") }}
{{- fail (printf "clonedVoices.persistence.mountPath %s is taken by another volume; pick e.g. /var/lib/tts/cloned-voices" $voices.mountPath) }}
{{- end }}
{{- /* A ReadWriteOnce claim attaches to one node: replicas scheduled elsewhere would hang in ContainerCreating. */}}
{{- if and (not $voices.existingClaim) (gt (int $v.autoscaling.maxReplicas) 1) (not (has "ReadWriteMany" $voices.accessModes)) }}
{{- fail "clonedVoices.persistence with autoscaling.maxReplicas > 1 needs accessModes [ReadWriteMany] (replicas share the claim); or set autoscaling.maxReplicas=1" }}
{{- end }}
{{- end }}
{{- end }}
