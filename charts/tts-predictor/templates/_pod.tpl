{{/* Pod-level fields shared by the predictor and transformer components. */}}
{{- define "tts-predictor.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
volumes:
  - name: cache
    emptyDir:
      {{- with .Values.cache.sizeLimit }}
      sizeLimit: {{ . }}
      {{- end }}
  - name: tmp
    emptyDir:
      {{- with .Values.cache.tmpSizeLimit }}
      sizeLimit: {{ . }}
      {{- end }}
{{- end }}

{{- define "tts-predictor.volumeMounts" -}}
volumeMounts:
  - name: cache
    mountPath: /var/cache/tts
  - name: tmp
    mountPath: /tmp
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
