"""Knative's and KServe's admission rules for the fields the chart renders, ported as executable checks.

No cluster is reachable here, so each rule below is a transcription of upstream Go, cited by file:line at a
pinned commit so it can be re-read against a new release:

- Knative serving ``knative-v1.23.0`` (commit 7ed4aa2ab601e3a33c6552285f6e0d910747351d), abbreviated ``KN``.
- KServe ``v0.15.2``, ``v0.16.0``, ``v0.17.0``, ``v0.18.0`` and ``master`` at
  aaac4e294dae2c7b1aa1886447793f3aa1c30912 (2026-08-21; the rules used here read the same at tag v0.20.0),
  abbreviated ``KS@<tag>``.

Each function returns a list of error strings (empty = admitted). Where a webhook mutates an object before
validating it (KServe's defaulter), `kserve_default` applies that mutation first, as the API server would.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

# KServe versions the chart is checked against, oldest first; "0.20" is read at master (pinned commit above).
KSERVE_VERSIONS = ("0.15", "0.16.0", "0.17", "0.18", "0.20")

# KN pkg/apis/config/features.go:83-116 defaultFeaturesConfig: the flags the chart's fields depend on. Only these
# are Enabled by default; every kubernetes.podspec-* flag the chart may need is Disabled.
STOCK_KNATIVE_FEATURES = frozenset({"kubernetes.podspec-volumes-emptydir", "multi-container"})
NODESELECTOR = "kubernetes.podspec-nodeselector"
TOLERATIONS = "kubernetes.podspec-tolerations"
AFFINITY = "kubernetes.podspec-affinity"
SECURITYCONTEXT = "kubernetes.podspec-securitycontext"
FIELDREF = "kubernetes.podspec-fieldref"
PVC = "kubernetes.podspec-persistent-volume-claim"
PVC_WRITE = "kubernetes.podspec-persistent-volume-write"

# KServe v1beta1 ComponentExtensionSpec json fields (KS@v0.17.0 pkg/apis/serving/v1beta1/component.go:85-131):
# everything else in a component is the inlined corev1.PodSpec that KServe hands to Knative.
COMPONENT_EXTENSION = frozenset(
    {
        "minReplicas",
        "maxReplicas",
        "scaleTarget",
        "scaleMetric",
        "scaleMetricType",
        "autoScaling",
        "containerConcurrency",
        "timeout",
        "canaryTrafficPercent",
        "logger",
        "batcher",
        "labels",
        "annotations",
        "deploymentStrategy",
    }
)

# KN pkg/apis/serving/fieldmask.go:222-303 PodSpecMask: always-allowed fields (231-239) and flag-gated ones (241-291).
_POD_ALLOWED = {"serviceAccountName", "containers", "volumes", "imagePullSecrets", "enableServiceLinks"}
_POD_FLAGGED = {
    "affinity": AFFINITY,
    "nodeSelector": NODESELECTOR,
    "tolerations": TOLERATIONS,
    "securityContext": SECURITYCONTEXT,
    "topologySpreadConstraints": "kubernetes.podspec-topologyspreadconstraints",
    "runtimeClassName": "kubernetes.podspec-runtimeclassname",
    "priorityClassName": "kubernetes.podspec-priorityclassname",
    "schedulerName": "kubernetes.podspec-schedulername",
    "initContainers": "kubernetes.podspec-init-containers",
    "hostAliases": "kubernetes.podspec-hostaliases",
}
# KN fieldmask.go:310-343 ContainerMask.
_CONTAINER_ALLOWED = {
    "name",
    "args",
    "command",
    "env",
    "workingDir",
    "envFrom",
    "image",
    "imagePullPolicy",
    "livenessProbe",
    "ports",
    "readinessProbe",
    "resources",
    "securityContext",
    "startupProbe",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "volumeMounts",
}
# KN fieldmask.go:711-742 SecurityContextMask (privileged only when false, 733-735).
_CONTAINER_SC_ALLOWED = {
    "capabilities",
    "readOnlyRootFilesystem",
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "allowPrivilegeEscalation",
    "seccompProfile",
}
# KN fieldmask.go:667-706 PodSecurityContextMask with kubernetes.podspec-securitycontext enabled (691-696).
_POD_SC_ALLOWED = {"runAsUser", "runAsGroup", "runAsNonRoot", "fsGroup", "supplementalGroups", "seccompProfile"}
# KN k8s_validation.go:44-67 reserved paths, env vars and ports (networking/queue ports 8012, 8013, 8022,
# 9090, 9091 and the profiling port 8008).
_RESERVED_PATHS = {"/", "/dev", "/dev/log"}
_RESERVED_ENV = {"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"}
_RESERVED_PORTS = {8012, 8013, 8022, 9090, 9091, 8008}
_VALID_PORT_NAMES = {"h2c", "http1", ""}  # k8s_validation.go:75-79
# KN pkg/apis/config/defaults.go:45 DefaultMaxRevisionTimeoutSeconds and :89 container-concurrency-max-limit (1000).
MAX_REVISION_TIMEOUT = 600
MAX_CONTAINER_CONCURRENCY = 1000
_GO_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def _set_fields(obj: dict[str, Any]) -> set[str]:
    """Fields that are set (Go's CheckDisallowedFields ignores zero values)."""
    return {k for k, v in obj.items() if v not in (None, "", [], {}, False, 0)}


def _go_duration(value: str) -> float | None:
    if not _GO_DURATION.match(value):
        return None
    return sum(float(n) * _DURATION_UNITS[u] for n, _, u in re.findall(r"(\d+(\.\d+)?)(ns|us|ms|s|m|h)", value))


def pod_spec_of(component: dict[str, Any]) -> dict[str, Any]:
    """The corev1.PodSpec inlined in a KServe component (what KServe gives Knative or a Deployment)."""
    return {k: v for k, v in component.items() if k not in COMPONENT_EXTENSION}


def knative_default_pod(spec: dict[str, Any]) -> dict[str, Any]:
    """Knative's defaulting webhook on the revision's containers, applied before validation: the user container's
    readiness probe (KN pkg/apis/serving/v1/revision_defaults.go:160-170 applyUserContainerDefaultReadinessProbe:
    a tcpSocket probe when none is given; :172-192 applyReadinessProbeDefaults: successThreshold 1, and
    failureThreshold 3 / timeoutSeconds 1 when periodSeconds is set). secure-pod-defaults (:205-) is Disabled by
    default and not applied."""
    out = copy.deepcopy(spec)
    for c in out.get("containers", []):
        if not c.get("ports") and len(out["containers"]) > 1:
            continue  # a sidecar keeps no readiness probe
        probe = c.setdefault("readinessProbe", {})
        if not {"tcpSocket", "httpGet", "exec", "grpc"} & probe.keys():
            probe["tcpSocket"] = {}
        probe["successThreshold"] = probe.get("successThreshold") or 1
        if probe.get("periodSeconds"):
            probe["failureThreshold"] = probe.get("failureThreshold") or 3
            probe["timeoutSeconds"] = probe.get("timeoutSeconds") or 1
    return out


def _readiness_errors(probe: dict[str, Any] | None) -> list[str]:
    """KN k8s_validation.go:828-873 validateReadinessProbe beyond validateProbe."""
    if probe is None:
        return []
    errors = []
    if probe.get("successThreshold", 0) < 1:
        errors.append("successThreshold out of bounds")
    if not probe.get("periodSeconds"):
        # periodSeconds 0 = Knative's aggressive probing: no failureThreshold or timeoutSeconds then.
        errors += [
            f"{f} is disallowed when periodSeconds is zero"
            for f in ("failureThreshold", "timeoutSeconds")
            if probe.get(f)
        ]
    else:
        errors += [f"{f} out of bounds" for f in ("timeoutSeconds", "failureThreshold") if probe.get(f, 0) < 1]
    return errors


def knative_pod_errors(spec: dict[str, Any], features: Iterable[str] = STOCK_KNATIVE_FEATURES) -> list[str]:
    """KN k8s_validation.go:402-447 ValidatePodSpec on a revision's pod spec, with these config-features enabled,
    after Knative's defaulting (`knative_default_pod`)."""
    spec = knative_default_pod(spec)
    on = set(features) | STOCK_KNATIVE_FEATURES
    errors = []
    for field in sorted(_set_fields(spec)):
        flag = _POD_FLAGGED.get(field)
        if field not in _POD_ALLOWED and (flag is None or flag not in on):
            # fieldmask.go:295-302 clears terminationGracePeriodSeconds, restartPolicy, activeDeadlineSeconds...
            errors.append(f"must not set the field(s): {field}" + (f" (needs {flag})" if flag else ""))
    if SECURITYCONTEXT in on:
        extra = _set_fields(spec.get("securityContext") or {}) - _POD_SC_ALLOWED
        errors += [f"must not set the field(s): securityContext.{f}" for f in sorted(extra)]
    volumes = {}
    for vol in spec.get("volumes", []):
        volumes[vol["name"]] = vol
        errors += _volume_errors(vol, on)
    containers = spec.get("containers", [])
    ports = [p for c in containers for p in c.get("ports", [])]
    if len(ports) > 1:  # k8s_validation.go:530-537
        errors.append("more than one container port is set")
    if not containers:
        errors.append("missing field(s): containers")
    if len(containers) > 1 and "multi-container" not in on:
        errors.append("multi-container is off")
    for c in containers:
        errors += [f"containers[{c.get('name')}]: {e}" for e in _container_errors(c, volumes, on)]
    return errors


def _volume_errors(vol: dict[str, Any], on: set[str]) -> list[str]:
    """KN k8s_validation.go:105-121 (claims) and 122-225 validateVolume, fieldmask.go:51-90 VolumeSourceMask."""
    sources = [k for k in vol if k != "name"]
    errors = [] if len(sources) == 1 else [f"volume {vol['name']}: expected exactly one source, got {sources}"]
    if "emptyDir" in vol and "kubernetes.podspec-volumes-emptydir" not in on:
        errors.append(f"volume {vol['name']}: emptyDir disabled")
    if "emptyDir" in vol and (vol["emptyDir"] or {}).get("medium", "") not in ("", "Memory"):  # :322-333
        errors.append(f"volume {vol['name']}: invalid emptyDir medium")
    claim = vol.get("persistentVolumeClaim")
    if claim is not None:
        if PVC not in on:
            errors.append(f"Persistent volume claim support is disabled, but found claim {claim['claimName']}")
        if not claim.get("readOnly") and PVC_WRITE not in on:
            errors.append(f"Persistent volume write support is disabled, claim {claim['claimName']} is not read-only")
    if not {"secret", "configMap", "projected", "emptyDir", "persistentVolumeClaim"} >= set(sources):
        errors.append(f"volume {vol['name']}: source {sources} not admitted by default")
    return errors


def _container_errors(c: dict[str, Any], volumes: dict[str, Any], on: set[str]) -> list[str]:
    """KN k8s_validation.go:606-665 ValidateUserContainer/validate."""
    errors = [f"must not set the field(s): {f}" for f in sorted(_set_fields(c) - _CONTAINER_ALLOWED)]
    if c.get("name") == "queue-proxy":  # :623-628
        errors.append('"queue-proxy" is a reserved container name')
    for e in c.get("env", []):  # :350-371 validateEnvVar
        if e["name"] in _RESERVED_ENV:
            errors.append(f"{e['name']!r} is a reserved environment variable")
        source = e.get("valueFrom") or {}
        # :335-341 validateEnvValueFrom with fieldmask.go:525-542 EnvVarSourceMask(fieldRef=flag)
        if ({"fieldRef", "resourceFieldRef"} & source.keys()) and FIELDREF not in on:
            errors.append(f"must not set the field(s): env[{e['name']}].valueFrom (needs {FIELDREF})")
    if not c.get("image"):
        errors.append("missing field(s): image")
    ports = c.get("ports", [])
    if ports:  # :772-800 validateContainerPorts, :813-826 validateContainerPortBasic
        port = ports[0]
        if port["containerPort"] in _RESERVED_PORTS:
            errors.append(f"{port['containerPort']} is a reserved port")
        if port.get("protocol", "TCP") != "TCP":
            errors.append(f"invalid value: {port['protocol']}: protocol")
        if port.get("name", "") not in _VALID_PORT_NAMES:
            errors.append(f"Port name {port['name']} is not allowed")
        if _set_fields(port) - {"containerPort", "name", "protocol"}:  # fieldmask.go:484-502 ContainerPortMask
            errors.append("must not set the field(s): ports[0].hostPort/hostIP")
    port_name = ports[0].get("name", "") if ports else "http"
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        errors += [f"{kind}: {e}" for e in _probe_errors(c.get(kind), port_name)]
    errors += [f"readinessProbe: {e}" for e in _readiness_errors(c.get("readinessProbe"))]
    extra = _set_fields(c.get("securityContext") or {}) - _CONTAINER_SC_ALLOWED
    if (c.get("securityContext") or {}).get("privileged") is True:
        extra.add("privileged")
    errors += [f"must not set the field(s): securityContext.{f}" for f in sorted(extra)]
    # fieldmask.go:747-768 CapabilitiesMask: add only with kubernetes.containerspec-addcapabilities.
    if ((c.get("securityContext") or {}).get("capabilities") or {}).get("add"):
        errors.append("must not set the field(s): securityContext.capabilities.add")
    errors += _mount_errors(c.get("volumeMounts", []), volumes)
    return errors


def _probe_errors(probe: dict[str, Any] | None, port_name: str) -> list[str]:
    """KN k8s_validation.go:875-930 validateProbe (fieldmask.go:379-465 ProbeMask and handler masks)."""
    if probe is None:
        return []
    handlers = [h for h in ("httpGet", "tcpSocket", "exec", "grpc") if h in probe]
    errors = [] if len(handlers) == 1 else [f"expected exactly one handler, got {handlers}"]
    allowed = {
        *handlers,
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
        "terminationGracePeriodSeconds",
    }
    errors += [f"must not set the field(s): {f}" for f in sorted(_set_fields(probe) - allowed)]
    for handler in ("httpGet", "tcpSocket"):
        port = (probe.get(handler) or {}).get("port")
        if isinstance(port, str) and port != port_name:  # :893-897 / :907-911
            errors.append(f"{handler}.port {port}: Probe port must match container port")
    return errors


def _mount_errors(mounts: list[dict[str, Any]], volumes: dict[str, Any]) -> list[str]:
    """KN k8s_validation.go:705-770 validateVolumeMounts (ValidateVolumes :83-103 also wants every volume mounted)."""
    errors, seen = [], set()
    for m in mounts:
        path = m.get("mountPath", "")
        vol = volumes.get(m["name"])
        if vol is None:
            errors.append(f"volumeMount {m['name']} has no matching volume")
        if path.rstrip("/") in _RESERVED_PATHS or path == "/":
            errors.append(f"mountPath {path!r} is a reserved path")
        elif not path.startswith("/"):
            errors.append(f"invalid value: {path}: mountPath")
        elif path in seen:
            errors.append(f"{path!r} must be unique")
        seen.add(path)
        if vol is not None and not ({"emptyDir", "persistentVolumeClaim", "ephemeral"} & vol.keys()):
            if not m.get("readOnly"):
                errors.append(f"volume mount {m['name']} should be readOnly for this type of volume")
    return errors


def knative_revision_errors(component: dict[str, Any], annotations: dict[str, str]) -> list[str]:
    """What Knative checks on the revision KServe builds from a component in Knative mode.

    KN pkg/apis/serving/v1/revision_validation.go:111-124 (timeoutSeconds <= max-revision-timeout-seconds,
    :173-185; containerConcurrency 0..container-concurrency-max-limit), :223-245 progress-deadline, and
    pkg/apis/autoscaling/annotation_validation.go:66-73 (class), :93-133 (target >= 0.01, register.go:87),
    :151-162 (scale-to-zero-pod-retention-period a Go duration).
    """
    errors = []
    timeout = component.get("timeout")
    if timeout is not None and not 0 <= timeout <= MAX_REVISION_TIMEOUT:
        errors.append(f"timeoutSeconds {timeout} outside [0, {MAX_REVISION_TIMEOUT}]")
    cc = component.get("containerConcurrency")
    if cc is not None and not 0 <= cc <= MAX_CONTAINER_CONCURRENCY:
        errors.append(f"containerConcurrency {cc} outside [0, {MAX_CONTAINER_CONCURRENCY}]")
    deadline = annotations.get("serving.knative.dev/progress-deadline")
    if deadline is not None:
        d = _go_duration(deadline)
        if d is None or d != round(d) or d < 0:
            errors.append(f"invalid progress-deadline {deadline!r}")
    cls = annotations.get("autoscaling.knative.dev/class")
    if (
        cls
        and cls.endswith("autoscaling.knative.dev")
        and cls not in ("kpa.autoscaling.knative.dev", "hpa.autoscaling.knative.dev")
    ):
        errors.append(f"invalid autoscaling class {cls}")
    target = annotations.get("autoscaling.knative.dev/target")
    if target is not None:
        try:
            if float(target) < 0.01:
                errors.append(f"target {target} should be at least 0.01")
        except ValueError:
            errors.append(f"invalid target {target!r}")
    retention = annotations.get("autoscaling.knative.dev/scale-to-zero-pod-retention-period")
    if retention is not None and _go_duration(retention) is None:
        errors.append(f"invalid scale-to-zero-pod-retention-period {retention!r}")
    return errors


def _at_least(version: str, minimum: str) -> bool:
    def key(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.lstrip("v").split("."))

    return key(version) >= key(minimum)


def _modes(version: str) -> dict[str, str]:
    """Annotation value -> the mode KServe runs (KS constants.go: v0.15.2:424-426; v0.16.0:464-469 adds
    Knative/Standard and keeps the legacy names as deprecated aliases, ParseDeploymentMode in v0.17.0:525-540)."""
    if not _at_least(version, "0.16"):
        return {"Serverless": "Knative", "RawDeployment": "Standard"}
    return {"Knative": "Knative", "Standard": "Standard", "Serverless": "Knative", "RawDeployment": "Standard"}


def kserve_default(isvc: dict[str, Any], version: str) -> dict[str, Any]:
    """KServe's mutating webhook on an InferenceService (inference_service_defaults.go, deploymentMode part).

    KS@v0.17.0 lines 158-168 rewrite the legacy RawDeployment/Serverless annotation to Standard/Knative
    (PR 5025); 0.15 and 0.16.0 leave it as written (v0.16.0 lines 158-170). A missing annotation gets the
    cluster default, which the chart never relies on (so the tests leave it absent).
    """
    out = copy.deepcopy(isvc)
    annotations = out["metadata"].setdefault("annotations", {})
    mode = annotations.get("serving.kserve.io/deploymentMode")
    if _at_least(version, "0.17") and mode in ("RawDeployment", "Serverless"):
        annotations["serving.kserve.io/deploymentMode"] = {"RawDeployment": "Standard", "Serverless": "Knative"}[mode]
    return out


def kserve_isvc_errors(isvc: dict[str, Any], version: str) -> list[str]:
    """KServe's validating webhook on create (KS v1beta1/inference_service_validation.go validateInferenceService,
    v0.16.0:109-156), the update it must also accept (validateDeploymentMode, v0.16.0:493-504), and the mode
    the controller would run. Apply `kserve_default` first."""
    annotations = isvc["metadata"].get("annotations", {})
    mode = annotations.get("serving.kserve.io/deploymentMode")
    errors = []
    if not re.match(r"^[a-z]([-a-z0-9]*[a-z0-9])?$", isvc["metadata"]["name"]):  # validateInferenceServiceName
        errors.append("invalid InferenceService name")
    known = _modes(version)
    if mode is not None and mode not in known:
        # 0.15 has no Knative/Standard constants: the controller treats them as neither mode.
        errors.append(f"deploymentMode {mode!r} unknown to KServe {version}")
    cls = annotations.get("serving.kserve.io/autoscalerClass")
    if cls is not None and cls not in ("hpa", "external", "none", "keda"):  # AutoscalerAllowedClassList
        errors.append(f"[{cls}] is not a supported autoscaler class type")
    # validateAutoScalingCompExtension (v0.15.2:210-231 switches on "RawDeployment", v0.16.0+:253-274 on
    # "Standard" only: a legacy RawDeployment annotation on 0.16.0 falls into the Knative branch).
    standard_spelling = "Standard" if _at_least(version, "0.16") else "RawDeployment"
    for name in ("predictor", "transformer"):
        comp = isvc["spec"].get(name)
        if comp is None:
            continue
        if mode == standard_spelling:
            if cls == "hpa":
                errors += [f"{name}: {e}" for e in _hpa_errors(comp)]
            elif cls == "keda":
                errors += [f"{name}: {e}" for e in _keda_errors(comp)]
        elif annotations.get("autoscaling.knative.dev/class") == "hpa.autoscaling.knative.dev":
            errors += [f"{name}: {e}" for e in _hpa_errors(comp)]
        else:
            errors += [f"{name}: {e}" for e in _kpa_errors(comp)]
    # validateBlockedEnvVars (KS@master inference_service_validation.go:302-354, pkg/validation/env_policy.go:25-27;
    # absent at v0.17.0, present from v0.18.0): PYTHONPATH may not be set on any container.
    if _at_least(version, "0.18"):
        for name in ("predictor", "transformer"):
            errors += _blocked_env_errors(isvc["spec"].get(name, {}).get("containers", []))
    # validateDeploymentMode on every later update (helm upgrade): status.deploymentMode holds the normalized
    # mode (v0.16.0 controller/v1beta1/inferenceservice/utils/utils.go:221-245 GetDeploymentMode maps the legacy
    # names, controller.go:367 stores it), so on 0.16.0 a legacy annotation is refused from the second apply on
    # (fixed by the 0.17 defaulter, PR 5025 "normalize deprec. deploymentMode annos; allow deletion").
    if mode in ("RawDeployment", "Serverless") and _at_least(version, "0.16"):
        errors.append(f"update rejected: deploymentMode cannot be changed from {known[mode]!r} to {mode!r}")
    return errors


def _hpa_errors(comp: dict[str, Any]) -> list[str]:
    """validateScalingHPACompExtension (v0.16.0:334-372; note the `cpu && <1 || >100` precedence, kept)."""
    metric = comp.get("scaleMetric", "cpu")
    if metric not in ("cpu", "memory"):
        return [f"[{metric}] is not a supported metric"]
    target = comp.get("scaleTarget")
    if target is not None:
        if not isinstance(target, int):
            return ["scaleTarget must be an int32"]
        if (metric == "cpu" and target < 1) or target > 100:
            return ["the target utilization percentage should be a [1-100] integer"]
    for m in comp.get("autoScaling", {}).get("metrics", []):
        if m.get("type") != "Resource" or not m.get("resource"):
            return [f"invalid HPA metric source type with value [{m.get('type')}]"]
    return []


def _metric_target_errors(target: dict[str, Any]) -> list[str]:
    """validateScaleTarget (v0.16.0:315-332)."""
    kind = target.get("type")
    field = {"Utilization": "averageUtilization", "AverageValue": "averageValue", "Value": "value"}.get(kind)
    if field and target.get(field) is None:
        return [f"the {kind} type should be set"]
    if kind == "Utilization" and not 1 <= target["averageUtilization"] <= 100:
        return ["the target utilization percentage should be a [1-100] integer"]
    return []


def _keda_errors(comp: dict[str, Any]) -> list[str]:
    """validateScalingKedaCompExtension (v0.16.0:374-441) plus what the KEDA reconciler needs: it builds one
    trigger per autoScaling metric (reconcilers/keda/keda_reconciler.go:81-185 getKedaMetrics), so a component
    without metrics gets a ScaledObject whose `triggers` (kedacore/keda apis/keda/v1alpha1/scaledobject_types.go
    ScaledObjectSpec.Triggers, its only scaling source) is empty: nothing scales it. Not an upstream admission
    error, but a deployment that cannot work, so the ported check refuses it."""
    if comp.get("scaleMetric") is not None:
        return ["ScaleMetric is not supported for KEDA"]
    metrics = comp.get("autoScaling", {}).get("metrics", [])
    if not metrics:
        return ["ScaledObject with no triggers"]
    errors = []
    for m in metrics:
        kind = m.get("type")
        if kind == "Resource":
            res = m.get("resource") or {}
            if res.get("name") == "cpu" and res["target"].get("type") != "Utilization":
                errors.append("the cpu target value type should be Utilization")
            errors += _metric_target_errors(res.get("target", {}))
        elif kind in ("External", "PodMetric"):
            src = m.get("external" if kind == "External" else "podmetric") or {}
            if not src.get("metric", {}).get("query"):
                errors.append("the query should not be empty")
            if src.get("target", {}).get("value") is None:
                errors.append("the target threshold value should not be empty")
            errors += _metric_target_errors(src.get("target", {}))
        else:
            errors.append(f"unknown KEDA metric type with value [{kind}]")
    return errors


def _kpa_errors(comp: dict[str, Any]) -> list[str]:
    """validateScalingKPACompExtension (v0.16.0:452-476)."""
    if comp.get("deploymentStrategy"):
        return ["customizing deploymentStrategy is only supported for raw deployment mode"]
    metric = comp.get("scaleMetric", "concurrency")
    if metric not in ("concurrency", "rps"):  # AutoscalerAllowedKPAMetricsList
        return [f"[{metric}] is not a supported metric"]
    target = comp.get("scaleTarget")
    if target is not None and not isinstance(target, int):
        return ["scaleTarget must be an int32"]
    if metric == "rps" and target is not None and target < 1:
        return ["the target for rps should be greater than 1"]
    return []


def kserve_running_mode(isvc: dict[str, Any], version: str) -> str | None:
    """The mode the controller runs the (defaulted) InferenceService in, None if it does not recognise it."""
    mode = isvc["metadata"].get("annotations", {}).get("serving.kserve.io/deploymentMode")
    return _modes(version).get(mode)


def knative_component_annotations(isvc: dict[str, Any], component: str) -> dict[str, str]:
    """Annotations on the Knative revision of a component: KServe copies the InferenceService's annotations
    and the component's own (components/predictor.go v0.16.0:100-169, transformer.go likewise), then writes
    scaleTarget/scaleMetric over the autoscaling ones (v1alpha1/utils/utils.go:48-80 SetAutoScalingAnnotations)."""
    comp = isvc["spec"][component]
    annotations = {**isvc["metadata"].get("annotations", {}), **comp.get("annotations", {})}
    annotations.setdefault("autoscaling.knative.dev/class", "kpa.autoscaling.knative.dev")
    if comp.get("scaleTarget") is not None:
        annotations["autoscaling.knative.dev/target"] = str(int(comp["scaleTarget"]))
    if comp.get("scaleMetric") is not None:
        annotations["autoscaling.knative.dev/metric"] = comp["scaleMetric"]
    return annotations


def graph_webhook_errors(graph: dict[str, Any], version: str) -> list[str]:
    """KServe's InferenceGraph webhook, KS v1alpha1/inference_graph_validation.go (v0.16.0 and master):
    name regex :178-184, root node :186-195, unique step names :133-149, exactly one of
    nodeName/serviceName/serviceUrl per step :151-176, splitter weights :197-214; plus the router's node lookup
    (cmd/router/main.go) and spec.routerTimeouts, which only exists from 0.16 (v1alpha1/inference_graph.go:56
    at v0.16.0; absent at v0.15.2, where the API server would prune it)."""
    name, spec = graph["metadata"]["name"], graph["spec"]
    nodes = spec["nodes"]
    errors = [] if re.match(r"^[a-z]([-a-z0-9]*[a-z0-9])?$", name) else [f"graph name {name!r}"]
    if "root" not in nodes:
        errors.append("no root node")
    for node_name, node in nodes.items():
        step_names = [s["name"] for s in node.get("steps", []) if s.get("name")]
        errors += [
            f"{node_name}: duplicate step {n!r}" for n in sorted({n for n in step_names if step_names.count(n) > 1})
        ]
        for i, step in enumerate(node.get("steps", [])):
            targets = [k for k in ("nodeName", "serviceName", "serviceUrl") if step.get(k)]
            if len(targets) != 1:
                errors.append(f"{node_name} step {i}: targets {targets}")
            if step.get("nodeName") and step["nodeName"] not in nodes:
                errors.append(f"{node_name} step {i}: unknown node {step['nodeName']!r}")
        if node.get("routerType") == "Splitter" and sum(s.get("weight", 0) for s in node["steps"]) != 100:
            errors.append(f"{node_name}: splitter weights")
    if "routerTimeouts" in spec and not _at_least(version, "0.16"):
        errors.append("spec.routerTimeouts unknown before KServe 0.16 (pruned)")
    mode = graph["metadata"].get("annotations", {}).get("serving.kserve.io/deploymentMode")
    if mode is not None and mode not in _modes(version):
        errors.append(f"graph deploymentMode {mode!r} unknown to KServe {version}")
    return errors


def router_write_timeout(graph: dict[str, Any], version: str) -> int:
    """Seconds the graph router keeps writing an answer: 60 on 0.15 (cmd/router/main.go:455 at v0.15.2), else
    spec.routerTimeouts.serverWrite or constants.RouterTimeoutServerWrite (60)."""
    if not _at_least(version, "0.16"):
        return 60
    return int(graph["spec"].get("routerTimeouts", {}).get("serverWrite", 60))


def _blocked_env_errors(containers: list[dict[str, Any]]) -> list[str]:
    """KS@master pkg/validation/env_policy.go:29-43 ValidateBlockedEnvVars with DefaultBlockedEnvVars (PYTHONPATH)."""
    return [
        f"setting {e['name']} in container {c['name']!r} is not allowed for security reasons"
        for c in containers
        for e in c.get("env", [])
        if e["name"] == "PYTHONPATH"
    ]


def serving_runtime_errors(runtime: dict[str, Any], version: str) -> list[str]:
    """KServe's (Cluster)ServingRuntime webhook, KS@master pkg/webhook/admission/servingruntime/
    servingruntime_webhook.go:71-112: validateModelFormatPrioritySame (:162-180: one auto-selected format name,
    one priority), validateServingRuntimePriority against other runtimes (:182-209; not checkable without a cluster:
    the chart sets no priority, so it cannot clash) and validateBlockedEnvVars (:270-283, from 0.18)."""
    spec, errors, priorities = runtime["spec"], [], {}
    for fmt in spec.get("supportedModelFormats", []):
        if fmt.get("autoSelect") and fmt.get("priority") is not None:
            if priorities.setdefault(fmt["name"], fmt["priority"]) != fmt["priority"]:
                errors.append(f"different priorities assigned for the model format {fmt['name']}")
    if _at_least(version, "0.18"):
        errors += _blocked_env_errors(spec.get("containers", []))
    return errors


def kserve_hpa(comp: dict[str, Any]) -> dict[str, Any]:
    """The HorizontalPodAutoscaler spec KServe builds for a Standard-mode component with autoscalerClass hpa
    (KS@v0.17.0 reconcilers/hpa/hpa_reconciler.go:150-185 createHPA: minReplicas raised to 1, maxReplicas to
    minReplicas; :60-148 getHPAMetrics: scaleMetric cpu/memory + scaleTarget -> a Resource Utilization metric,
    cpu defaulting to 80 %)."""
    low = max(int(comp.get("minReplicas", 1)), 1)
    high = max(int(comp.get("maxReplicas", 0)), low)
    metric, target = comp.get("scaleMetric", "cpu"), comp.get("scaleTarget")
    metrics = []
    if metric == "cpu" or (metric == "memory" and target is not None):
        util = target if target is not None else 80
        metrics.append({"type": "Resource", "resource": {"name": metric, "target": {"averageUtilization": util}}})
    return {"minReplicas": low, "maxReplicas": high, "metrics": metrics}


def kserve_scaled_object(comp: dict[str, Any]) -> dict[str, Any]:
    """The KEDA ScaledObject spec KServe builds (KS@v0.17.0 reconcilers/keda/keda_reconciler.go:187-240
    createKedaScaledObject: minReplicaCount defaults to 1, maxReplicaCount raised to it; one trigger per
    autoScaling metric, :81-185 getKedaMetrics: Resource -> cpu/memory trigger, External -> prometheus)."""
    low = int(comp.get("minReplicas", 1))
    high = max(int(comp.get("maxReplicas", 0)), low)
    triggers = []
    for m in comp.get("autoScaling", {}).get("metrics", []):
        if m.get("type") == "Resource":
            res = m["resource"]
            triggers.append({"type": res["name"], "target": res["target"]})
        elif m.get("type") == "External":
            triggers.append({"type": m["external"]["metric"].get("backend", "prometheus")})
    return {"minReplicaCount": low, "maxReplicaCount": high, "triggers": triggers}


def _requests(comp: dict[str, Any], resource: str) -> list[str]:
    """Containers without a request for `resource`: the HPA controller cannot compute utilization for them
    (kubernetes pkg/controller/podautoscaler/replica_calculator.go calculatePodRequests: "missing request for")."""
    return [
        f"container {c['name']!r} has no {resource} request (utilization scaling needs one)"
        for c in comp.get("containers", [])
        if resource not in (c.get("resources", {}).get("requests") or {})
    ]


def hpa_errors(comp: dict[str, Any]) -> list[str]:
    """kubernetes/kubernetes pkg/apis/autoscaling/validation/validation.go (read at 0fec7b0f):
    ValidateHorizontalPodAutoscaler (minReplicas >= 1 without the HPAScaleToZero gate),
    validateHorizontalPodAutoscalerSpec (maxReplicas > 0 and >= minReplicas), on the HPA KServe builds, plus the
    requests a Utilization metric needs."""
    hpa, errors = kserve_hpa(comp), []
    if hpa["minReplicas"] < 1:
        errors.append("minReplicas must be greater than or equal to 1")
    if hpa["maxReplicas"] < 1 or hpa["maxReplicas"] < hpa["minReplicas"]:
        errors.append("maxReplicas must be greater than 0 and >= minReplicas")
    for m in hpa["metrics"]:
        errors += _requests(comp, m["resource"]["name"])
    return errors


def keda_scaled_object_errors(comp: dict[str, Any]) -> list[str]:
    """KEDA on the ScaledObject KServe builds: kedacore/keda apis/keda/v1alpha1/scaledobject_types.go
    CheckReplicaCountBoundsAreValid (min <= max), its `triggers` non-empty (the only scaling source), and for a
    cpu/memory trigger the container requests KEDA's resource metric (an HPA Resource metric) needs."""
    so, errors = kserve_scaled_object(comp), []
    if so["minReplicaCount"] > so["maxReplicaCount"]:
        errors.append("MinReplicaCount must be less than MaxReplicaCount")
    if not so["triggers"]:
        errors.append("ScaledObject with no triggers")
    for trigger in so["triggers"]:
        if trigger["type"] in ("cpu", "memory"):
            errors += _requests(comp, trigger["type"])
    return errors
