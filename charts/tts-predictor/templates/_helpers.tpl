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

{{/* V2 infer URL of an external graph step (ASR, translation): (list ctx stepValues).
     `<isvc>-predictor.<ns>` is the predictor's Service in both deployment modes (in Knative mode the
     Knative Service of that name); `url` overrides it, e.g. for a step with its own transformer. */}}
{{- define "tts-predictor.stepUrl" -}}
{{- $ctx := index . 0 }}{{ $step := index . 1 }}
{{- $step.url | default (printf "http://%s-predictor.%s.svc.cluster.local/v2/models/%s/infer" $step.serviceName $ctx.Release.Namespace $step.modelName) }}
{{- end }}

{{/* The deployment-mode family, `Knative` or `Standard`: what the values ask for, else what the autoscaler
     class implies (KServe's own KPA needs Knative; hpa and keda exist only in Standard mode). KServe
     normalizes the legacy names Serverless/RawDeployment the same way
     (pkg/constants/constants.go ParseDeploymentMode). */}}
{{- define "tts-predictor.modeFamily" -}}
{{- $mode := .Values.inferenceService.deploymentMode }}
{{- if has $mode (list "Serverless" "Knative") }}Knative
{{- else if has $mode (list "RawDeployment" "Standard") }}Standard
{{- else if eq .Values.autoscaling.class "kpa" }}Knative
{{- else }}Standard
{{- end }}
{{- end }}

{{/* True when kserve.version predates the Knative/Standard names (KServe < 0.16). */}}
{{- define "tts-predictor.legacyModeNames" -}}
{{- if semverCompare "<0.16.0-0" (toString .Values.kserve.version) }}true{{ end }}
{{- end }}

{{/* The `serving.kserve.io/deploymentMode` annotation of the InferenceService (and the graph): the mode family
     (values, else what the autoscaler needs), always spelled the way kserve.version understands it, never the
     cluster default (KServe >= 0.15 defaults to Standard, where KPA annotations would be silently ignored).
     KServe < 0.16 knows only Serverless/RawDeployment (constants.go at v0.15.2). KServe 0.16.0 still accepts the
     legacy names but validates them as Knative (inference_service_validation.go validateAutoScalingCompExtension
     switches on "Standard" only: HPA is refused with "[cpu] is not a supported metric") and refuses every later
     update because status.deploymentMode is the normalized name (validateDeploymentMode); v0.17 normalizes
     them in its defaulter (inference_service_defaults.go, PR 5025). So >= 0.16 gets Knative/Standard. */}}
{{- define "tts-predictor.modeAnnotation" -}}
{{- $family := include "tts-predictor.modeFamily" . }}
{{- if include "tts-predictor.legacyModeNames" . }}
{{- ternary "Serverless" "RawDeployment" (eq $family "Knative") }}
{{- else }}
{{- $family }}
{{- end }}
{{- end }}

{{/* Entry-point host of the InferenceService inside the cluster: the transformer's Service when there is one,
     else the predictor's. `<isvc>-predictor` / `<isvc>-transformer` exist in both modes (Knative: the Knative
     Service's cluster-local address; Standard: KServe's Service on port 80, service_reconciler.go
     createDefaultSvc); the bare `<isvc>.<ns>.svc` exists only in Knative mode with Istio. */}}
{{- define "tts-predictor.entryHost" -}}
{{- printf "%s-%s.%s.svc.cluster.local" (include "tts-predictor.fullname" .) (ternary "transformer" "predictor" .Values.transformer.enabled) .Release.Namespace }}
{{- end }}

{{/* Knative containerConcurrency of the predictor: `auto` = what one pod holds (running + queued), so
     Knative's queue-proxy queues the excess instead of the app answering 429. */}}
{{- define "tts-predictor.containerConcurrency" -}}
{{- $cc := .Values.predictor.containerConcurrency }}
{{- if eq (toString $cc) "auto" }}{{ add (include "tts-predictor.maxConcurrency" .) .Values.admission.maxQueue }}{{ else }}{{ int $cc }}{{ end }}
{{- end }}

{{/* predictor.resources.limits.cpu in millicores ("2" -> 2000, "1500m" -> 1500, 1.5 -> 1500), empty without a limit. */}}
{{- define "tts-predictor.cpuLimitMillicores" -}}
{{- $cpu := dig "limits" "cpu" "" (.Values.predictor.resources | default dict) | toString }}
{{- if hasSuffix "m" $cpu }}{{ trimSuffix "m" $cpu | int }}{{ else if $cpu }}{{ mulf (float64 $cpu) 1000 | int }}{{ end }}
{{- end }}

{{/* TTS_MAX_CONCURRENCY: admission.maxConcurrency, or with 0 (auto) what the server picks under the pod's CPU quota:
     the limit's whole CPUs, rounded down, at least 1 (tts_predictor/server/cpus.py CpuBudget.whole). */}}
{{- define "tts-predictor.maxConcurrency" -}}
{{- $n := int .Values.admission.maxConcurrency }}
{{- if $n }}{{ $n }}
{{- else }}
{{- $milli := include "tts-predictor.cpuLimitMillicores" . }}
{{- if not $milli }}{{ fail "admission.maxConcurrency=0 (auto) needs predictor.resources.limits.cpu (the server would size itself to the node)" }}{{ end }}
{{- max 1 (min 64 (div (int $milli) 1000)) }}
{{- end }}
{{- end }}

{{/* Name of the InferenceGraph. */}}
{{- define "tts-predictor.graphName" -}}
{{- .Values.graph.name | default (printf "%s-graph" (include "tts-predictor.fullname" .)) }}
{{- end }}

{{/* Fail early on value combinations that would render but not work. */}}
{{- define "tts-predictor.validateValues" -}}
{{- $v := .Values }}
{{- if not (has $v.model.source (list "embedded" "coqui" "piper" "storageUri")) }}
{{- fail (printf "model.source must be embedded, coqui, piper or storageUri, got %q" $v.model.source) }}
{{- end }}
{{- if and (eq $v.model.source "piper") (not $v.model.piperVoices) }}
{{- fail "model.source=piper needs model.piperVoices (e.g. [en_GB-alan-medium])" }}
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
{{- $family := include "tts-predictor.modeFamily" . }}
{{- if eq $v.autoscaling.class "kpa" }}
{{- if not (has $v.autoscaling.metric (list "concurrency" "rps")) }}
{{- fail (printf "autoscaling.class=kpa supports metric concurrency or rps, got %q (cpu/memory need class hpa, queue needs class keda)" $v.autoscaling.metric) }}
{{- end }}
{{- if eq $family "Standard" }}
{{- fail "autoscaling.class=kpa needs Knative (deploymentMode Knative or Serverless); use class hpa or keda with Standard/RawDeployment" }}
{{- end }}
{{- else if has $v.autoscaling.class (list "hpa" "keda") }}
{{- $metrics := ternary (list "cpu" "memory") (list "queue") (eq $v.autoscaling.class "hpa") }}
{{- if not (has $v.autoscaling.metric $metrics) }}
{{- fail (printf "autoscaling.class=%s supports metric %s, got %q" $v.autoscaling.class (join " or " $metrics) $v.autoscaling.metric) }}
{{- end }}
{{- if lt (int $v.autoscaling.minReplicas) 1 }}
{{- fail "autoscaling.minReplicas=0 (scale-to-zero) needs class kpa" }}
{{- end }}
{{- if eq $family "Knative" }}
{{- fail (printf "autoscaling.class=%s needs deploymentMode Standard or RawDeployment (KServe's HPA/KEDA autoscalers exist only there)" $v.autoscaling.class) }}
{{- end }}
{{- /* HPA utilization (and KEDA's cpu trigger, an HPA Resource metric) is computed against container requests. */}}
{{- if and (eq $v.autoscaling.class "hpa") (not (dig "requests" $v.autoscaling.metric "" ($v.predictor.resources | default dict))) }}
{{- fail (printf "autoscaling.class=hpa on %s needs predictor.resources.requests.%s: HPA utilization is relative to the request (a CPU request for cpu, a memory request for memory)" $v.autoscaling.metric $v.autoscaling.metric) }}
{{- end }}
{{- if and $v.transformer.enabled (not (dig "requests" "cpu" "" ($v.transformer.resources | default dict))) }}
{{- fail (printf "autoscaling.class=%s scales the transformer on CPU utilization: transformer.resources.requests.cpu needs a CPU request" $v.autoscaling.class) }}
{{- end }}
{{- if and (eq $v.autoscaling.class "keda") (not $v.autoscaling.prometheus.serverAddress) }}
{{- fail "autoscaling.class=keda needs autoscaling.prometheus.serverAddress (the Prometheus that scrapes tts_queued_requests)" }}
{{- end }}
{{- else }}
{{- fail (printf "autoscaling.class must be kpa, hpa or keda, got %q" $v.autoscaling.class) }}
{{- end }}
{{- /* admission.* feed both the app's limits and containerConcurrency=auto: one source only. */}}
{{- $envNames := keys $v.extraEnv }}
{{- range $v.env }}{{ $envNames = append $envNames .name }}{{ end }}
{{- /* KServe >= 0.18 refuses PYTHONPATH on any container (pkg/validation/env_policy.go DefaultBlockedEnvVars). */}}
{{- if has "PYTHONPATH" $envNames }}
{{- fail "PYTHONPATH may not be set: KServe >= 0.18 refuses it on every container (validateBlockedEnvVars)" }}
{{- end }}
{{- range $name := list "TTS_MAX_CONCURRENCY" "TTS_MAX_QUEUE" }}
{{- if has $name $envNames }}
{{- fail (printf "set %s with admission.maxConcurrency / admission.maxQueue, not env or extraEnv (containerConcurrency is derived from them)" $name) }}
{{- end }}
{{- end }}
{{- /* KServe's webhooks: InferenceService and InferenceGraph names must match [a-z]([-a-z0-9]*[a-z0-9])?
       (pkg/apis/serving/v1alpha1/inference_graph_validation.go lines 52-60, 180-186). */}}
{{- $nameRe := "^[a-z]([-a-z0-9]*[a-z0-9])?$" }}
{{- if not (regexMatch $nameRe (include "tts-predictor.fullname" .)) }}
{{- fail (printf "InferenceService name %q must match %s (use fullnameOverride)" (include "tts-predictor.fullname" .) $nameRe) }}
{{- end }}
{{- if $v.graph.enabled }}
{{- if not (regexMatch $nameRe (include "tts-predictor.graphName" .)) }}
{{- fail (printf "graph.name %q must match %s (KServe's InferenceGraph webhook refuses it)" (include "tts-predictor.graphName" .) $nameRe) }}
{{- end }}
{{- $rt := $v.graph.routerTimeouts }}
{{- $write := int ($rt.serverWrite | default (add (int $v.predictor.timeout) 30)) }}
{{- if and (int $rt.serviceClient) (gt (int $rt.serviceClient) $write) }}
{{- fail (printf "graph.routerTimeouts.serviceClient (%d s) exceeds serverWrite (%d s): the router would drop the answer before a step times out" (int $rt.serviceClient) $write) }}
{{- end }}
{{- if lt $write (int $v.predictor.timeout) }}
{{- fail (printf "graph.routerTimeouts.serverWrite (%d s) is below predictor.timeout (%d s): the router would cut a TTS answer the predictor may still send" $write (int $v.predictor.timeout)) }}
{{- end }}
{{- if include "tts-predictor.legacyModeNames" . }}
{{- range $k, $val := $rt }}{{ if int $val }}
{{- fail (printf "graph.routerTimeouts.%s needs KServe >= 0.16 (kserve.version is %v): 0.15 has no spec.routerTimeouts" $k $v.kserve.version) }}
{{- end }}{{ end }}
{{- end }}
{{- end }}
{{- if not (has (toString $v.inferenceService.deploymentMode) (list "" "Knative" "Standard" "Serverless" "RawDeployment")) }}
{{- fail (printf "inferenceService.deploymentMode must be Knative, Standard, Serverless or RawDeployment, got %q" $v.inferenceService.deploymentMode) }}
{{- end }}
{{- if not (regexMatch "^v?0\\.[0-9]+(\\.[0-9]+)?$" (toString $v.kserve.version)) }}
{{- fail (printf "kserve.version must look like 0.15, 0.16.0 or 0.17, got %q" (toString $v.kserve.version)) }}
{{- end }}
{{- if semverCompare "<0.15.0-0" (toString $v.kserve.version) }}
{{- fail (printf "kserve.version %s: the chart needs KServe >= 0.15" (toString $v.kserve.version)) }}
{{- end }}
{{- if and (ne $v.autoscaling.class "keda") (ne (toString (int $v.autoscaling.target)) (toString $v.autoscaling.target)) }}
{{- if or (eq $v.autoscaling.class "hpa") (not (has $v.autoscaling.metric (list "concurrency" "rps"))) }}
{{- fail (printf "autoscaling.target %v: class %s needs an integer (KServe's scaleTarget is an int32)" $v.autoscaling.target $v.autoscaling.class) }}
{{- end }}
{{- end }}
{{- if and (eq $family "Standard") $v.predictor.terminationGracePeriodSeconds (lt (int $v.predictor.terminationGracePeriodSeconds) (int $v.predictor.timeout)) }}
{{- fail (printf "predictor.terminationGracePeriodSeconds (%d) is below predictor.timeout (%d): a rollout would cut running syntheses" (int $v.predictor.terminationGracePeriodSeconds) (int $v.predictor.timeout)) }}
{{- end }}
{{- if and $v.metrics.serviceMonitor.enabled $v.grpc.enabled }}
{{- fail "metrics.serviceMonitor scrapes the http1 Service port; with grpc.enabled the Service exposes h2c only" }}
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
