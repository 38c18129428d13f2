{{/* Pod-level fields of a component: (list ctx "predictor"|"transformer" knativeMode).
     Stock Knative refuses a pod-level securityContext (fieldmask.go PodSecurityContextMask keeps nothing but
     seccompProfile under secure-pod-defaults unless kubernetes.podspec-securitycontext is enabled), so in Knative
     mode it is rendered only when knative.podSpecSecurityContext says the cluster enabled that flag; the container
     securityContext carries runAsNonRoot, runAsUser/Group and seccompProfile in every mode. */}}
{{- define "tts-predictor.podCommon" -}}
{{- $ctx := index . 0 }}{{ $component := index . 1 }}{{ $knative := index . 2 }}
{{- with $ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if or (not $knative) $ctx.Values.knative.podSpecSecurityContext }}
securityContext:
  {{- toYaml $ctx.Values.podSecurityContext | nindent 2 }}
{{- end }}
volumes:
  - name: cache
    emptyDir:
      {{- with $ctx.Values.cache.sizeLimit }}
      sizeLimit: {{ . }}
      {{- end }}
  - name: tmp
    emptyDir:
      {{- with $ctx.Values.cache.tmpSizeLimit }}
      sizeLimit: {{ . }}
      {{- end }}
  {{- if and (eq $component "predictor") $ctx.Values.clonedVoices.persistence.enabled }}
  - name: cloned-voices
    persistentVolumeClaim:
      claimName: {{ include "tts-predictor.clonedVoicesClaim" $ctx }}
  {{- end }}
{{- end }}

{{/* Container volume mounts of a component: (list ctx "predictor"|"transformer"). */}}
{{- define "tts-predictor.volumeMounts" -}}
{{- $ctx := index . 0 }}{{ $component := index . 1 }}
volumeMounts:
  - name: cache
    mountPath: /var/cache/tts
  - name: tmp
    mountPath: /tmp
  {{- if and (eq $component "predictor") $ctx.Values.clonedVoices.persistence.enabled }}
  - name: cloned-voices
    mountPath: {{ $ctx.Values.clonedVoices.persistence.mountPath }}
  {{- end }}
{{- end }}

{{/* REST probes. With grpc.enabled the only routable port is h2c 8081, and Knative rejects
     httpGet probes on any other port, so the probes exec python against the in-pod REST port. */}}
{{- define "tts-predictor.probe" -}}
{{- $ctx := index . 0 }}{{ $path := index . 1 }}
{{- if $ctx.Values.grpc.enabled }}
exec:
  command: ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080{{ $path }}', timeout=4)"]
{{- else }}
httpGet:
  path: {{ $path }}
  port: 8080
{{- end }}
timeoutSeconds: 5
{{- end }}

{{/* TTS_CPU_LIMIT_MILLICORES of the predictor: (list ctx knativeMode). The server sizes its threads from the
     cgroup CPU quota; this is the fallback where the quota cannot be read. Through the downward API where the
     cluster admits it (Knative refuses resourceFieldRef unless kubernetes.podspec-fieldref is enabled:
     fieldmask.go EnvVarSourceMask, k8s_validation.go validateEnvValueFrom), else the literal from values.
     Without a CPU limit nothing is passed: the downward API would report the node's allocatable CPUs. */}}
{{- define "tts-predictor.cpuLimitEnv" -}}
{{- $ctx := index . 0 }}{{ $knative := index . 1 }}
{{- $milli := include "tts-predictor.cpuLimitMillicores" $ctx }}
{{- if $milli }}
- name: TTS_CPU_LIMIT_MILLICORES
{{- if or (not $knative) $ctx.Values.knative.podSpecFieldRef }}
  valueFrom:
    resourceFieldRef:
      containerName: kserve-container
      resource: limits.cpu
      divisor: 1m
{{- else }}
  value: {{ $milli | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* Grace period of Standard-mode pods: at least the request timeout, so a rollout lets running syntheses
     finish (Knative mode derives it from the revision timeout and refuses the field). */}}
{{- define "tts-predictor.gracePeriod" -}}
{{- .Values.predictor.terminationGracePeriodSeconds | default (add (int .Values.predictor.timeout) 30) }}
{{- end }}

{{/* Piper catalogue voices the init container pulls: voices.pull and, with model.source=piper, model.piperVoices. */}}
{{- define "tts-predictor.pulledVoices" -}}
{{- $names := .Values.voices.pull }}
{{- if eq .Values.model.source "piper" }}{{ $names = concat $names .Values.model.piperVoices }}{{ end }}
{{- $names | uniq | join " " }}
{{- end }}

{{/* The init container that downloads Piper catalogue voices into the cache volume (`tts-predictor voices pull`),
     with the server's image, security context and mounts, so the server finds them verified and needs no network. */}}
{{- define "tts-predictor.voicesInit" -}}
{{- with include "tts-predictor.pulledVoices" . }}
initContainers:
  - name: pull-voices
    image: {{ include "tts-predictor.image" $ }}
    imagePullPolicy: {{ $.Values.image.pullPolicy }}
    args: {{ concat (list "voices" "pull") (splitList " " .) | toJson }}
    {{- with $.Values.voices.mirrorUrl }}
    env:
      - name: TTS_PIPER_VOICES_URL
        value: {{ . | quote }}
    {{- end }}
    resources:
      {{- toYaml $.Values.predictor.resources | nindent 6 }}
    securityContext:
      {{- toYaml $.Values.securityContext | nindent 6 }}
    {{- include "tts-predictor.volumeMounts" (list $ "predictor") | nindent 4 }}
{{- end }}
{{- end }}
