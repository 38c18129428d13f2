{{/* Pod-level fields of a component: (list ctx "predictor"|"transformer"). */}}
{{- define "tts-predictor.podCommon" -}}
{{- $ctx := index . 0 }}{{ $component := index . 1 }}
{{- with $ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $ctx.Values.podSecurityContext | nindent 2 }}
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
