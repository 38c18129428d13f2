"""Every render of the chart's matrix through the ported Knative and KServe admission rules (tests/support/admission.py).

No cluster is reachable here: these rules are transcriptions of upstream webhooks at pinned commits, and the
sabotage tests below show each one refuses what upstream refuses.
"""

from __future__ import annotations

import copy
import functools
import itertools
from typing import Any

import pytest
import yaml

helm = pytest.importorskip("helm_python")
import admission  # noqa: E402
from kube_schemas import ROOT  # noqa: E402

CHART = ROOT / "charts" / "tts-predictor"
PROM = {"serverAddress": "http://prometheus.monitoring:9090"}
AUTOSCALERS: dict[str, dict[str, Any]] = {
    "kpa": {},
    "kpa-fractional": {"autoscaling": {"target": 2.5}},
    "knative-explicit": {"inferenceService": {"deploymentMode": "Serverless"}},
    "hpa": {"autoscaling": {"class": "hpa", "metric": "cpu", "target": 70}},
    "keda": {"autoscaling": {"class": "keda", "metric": "queue", "target": 4, "prometheus": PROM}},
}
PLACEMENT: dict[str, dict[str, Any]] = {"any": {}, "gpu": {"gpu": {"enabled": True}}, "arm64": {"arch": "arm64"}}
STORAGE: dict[str, dict[str, Any]] = {
    "embedded": {},
    "coqui": {"model": {"source": "coqui"}},
    "s3": {"model": {"source": "storageUri", "storageUri": "s3://bucket/voices/en"}},
    "pvc": {"model": {"source": "storageUri", "storageUri": "pvc://models/voices/en"}},
    "oci": {"model": {"source": "storageUri", "storageUri": "oci://ghcr.io/example/tts-voice:1"}},
}
EXTRAS: dict[str, dict[str, Any]] = {
    "plain": {},
    "transformer": {"transformer": {"enabled": True}},
    "graph": {"graph": {"enabled": True}},
    "transformer+graph+runtime": {
        "transformer": {"enabled": True},
        "graph": {"enabled": True},
        "servingRuntime": {"enabled": True},
    },
}
MATRIX = list(itertools.product(admission.KSERVE_VERSIONS, AUTOSCALERS, PLACEMENT, STORAGE, EXTRAS))


def _merge(*parts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            out[key] = _merge(out.get(key, {}), value) if isinstance(value, dict) else value
    return out


@functools.cache
def _chart() -> Any:
    return helm.Chart.load(CHART)


def render_all(values: dict[str, Any]) -> dict[str, str]:
    return _chart().render(copy.deepcopy(values), name="tts", namespace="models")


def objects(rendered: dict[str, str]) -> list[dict[str, Any]]:
    return [o for p, t in sorted(rendered.items()) if p.endswith(".yaml") for o in yaml.safe_load_all(t) if o]


def notes_flags(rendered: dict[str, str]) -> set[str]:
    """The Knative config-features flags the NOTES tell the operator to enable."""
    text = next(t for p, t in rendered.items() if p.endswith("NOTES.txt"))
    return {f for f in text.split('"') if f.startswith("kubernetes.podspec-")}


def admission_errors(values: dict[str, Any], version: str, features: set[str] | None = None) -> list[str]:
    """Everything KServe and (in Knative mode) Knative would refuse in this render, on a cluster whose Knative
    enables exactly the flags the NOTES print (or `features`)."""
    rendered = render_all(values)
    objs = objects(rendered)
    enabled = notes_flags(rendered) if features is None else features
    errors = []
    (isvc,) = [o for o in objs if o["kind"] == "InferenceService"]
    isvc = admission.kserve_default(isvc, version)
    errors += admission.kserve_isvc_errors(isvc, version)
    mode = admission.kserve_running_mode(isvc, version)
    if mode is None:
        errors.append("no deploymentMode annotation the controller understands")
    for component in ("predictor", "transformer"):
        if component not in isvc["spec"]:
            continue
        comp = isvc["spec"][component]
        if mode == "Knative":
            errors += [f"{component}: {e}" for e in admission.knative_pod_errors(admission.pod_spec_of(comp), enabled)]
            anns = admission.knative_component_annotations(isvc, component)
            errors += [f"{component}: {e}" for e in admission.knative_revision_errors(comp, anns)]
        scaler = isvc["metadata"]["annotations"].get("serving.kserve.io/autoscalerClass")
        if mode == "Standard" and scaler == "hpa":
            errors += [f"{component} HPA: {e}" for e in admission.hpa_errors(comp)]
        elif mode == "Standard" and scaler == "keda":
            errors += [f"{component} ScaledObject: {e}" for e in admission.keda_scaled_object_errors(comp)]
    for graph in (o for o in objs if o["kind"] == "InferenceGraph"):
        errors += admission.graph_webhook_errors(graph, version)
    for runtime in (o for o in objs if o["kind"].endswith("ServingRuntime")):
        errors += admission.serving_runtime_errors(runtime, version)
    return errors


@pytest.mark.parametrize(("version", "scaler", "placement", "storage", "extras"), MATRIX)
def test_matrix_passes_ported_webhooks(version: str, scaler: str, placement: str, storage: str, extras: str) -> None:
    values = _merge(
        {"kserve": {"version": version}}, AUTOSCALERS[scaler], PLACEMENT[placement], STORAGE[storage], EXTRAS[extras]
    )
    assert admission_errors(values, version) == []


OTHER_FEATURES: dict[str, dict[str, Any]] = {
    "grpc": {"grpc": {"enabled": True}},
    "cloned-voices-pvc": {"clonedVoices": {"persistence": {"enabled": True}}, "transformer": {"enabled": True}},
    "api-keys+env-fieldref": {
        "apiKeys": {"keys": ["k"]},
        "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
        "envFrom": [{"configMapRef": {"name": "tts-settings"}}],
        "imagePullSecrets": [{"name": "regcred"}],
    },
    "ray+aggregation": {"ray": {"enabled": True}, "metrics": {"kserveAggregation": True}},
    "flags-set": {"knative": {"podSpecSecurityContext": True, "podSpecFieldRef": True}},
    "affinity+tolerations+sa": {
        "predictor": {
            "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}},
            "tolerations": [{"key": "k", "operator": "Exists"}],
            "serviceAccountName": "models-sa",
        }
    },
    "scale-to-zero": {"autoscaling": {"minReplicas": 0, "metric": "rps", "target": 10}},
    "pdb+netpol+servicemonitor+hpa-memory": {
        "pdb": {"enabled": True},
        "networkPolicy": {"enabled": True},
        "metrics": {"serviceMonitor": {"enabled": True}},
        "autoscaling": {"class": "hpa", "metric": "memory", "target": 80},
    },
}


@pytest.mark.parametrize("feature", OTHER_FEATURES)
@pytest.mark.parametrize("version", admission.KSERVE_VERSIONS)
def test_other_features_pass_ported_webhooks(version: str, feature: str) -> None:
    """The chart's other switches, each on every version, through the same rules as the matrix."""
    values = _merge({"kserve": {"version": version}}, OTHER_FEATURES[feature])
    assert admission_errors(values, version) == []


@pytest.mark.parametrize("version", admission.KSERVE_VERSIONS)
@pytest.mark.parametrize(
    "values", [{}, {"arch": "amd64"}, {"gpu": {"enabled": True}, "transformer": {"enabled": True}}]
)
def test_notes_flags_are_exactly_what_knative_needs(version: str, values: dict[str, Any]) -> None:
    """With stock Knative the errors are exactly the flags the NOTES print, and each flag is needed."""
    values = _merge({"kserve": {"version": version}}, values)
    flags = notes_flags(render_all(values))
    assert admission_errors(values, version, flags) == []
    for flag in flags:
        assert admission_errors(values, version, flags - {flag}), f"{flag} printed but not needed"


@pytest.mark.parametrize(
    ("name", "flags"),
    [
        ("inferenceservice-cpu.yaml", set()),
        ("inferenceservice-storageuri.yaml", set()),
        ("inferenceservice-gpu.yaml", {admission.NODESELECTOR, admission.TOLERATIONS}),
    ],
)
def test_deploy_manifests_pass_knative(name: str, flags: set[str]) -> None:
    """The committed deploy/ manifests (Knative mode) on stock Knative, plus only the flags a GPU pod needs."""
    (isvc,) = [o for o in yaml.safe_load_all((ROOT / "deploy" / name).read_text()) if o]
    isvc = admission.kserve_default(isvc, "0.20")
    assert admission.kserve_isvc_errors(isvc, "0.20") == []
    assert admission.kserve_running_mode(isvc, "0.20") == "Knative"
    spec = admission.pod_spec_of(isvc["spec"]["predictor"])
    assert admission.knative_pod_errors(spec, flags) == []
    for flag in flags:
        assert admission.knative_pod_errors(spec, flags - {flag}), flag


def test_knative_default_has_no_grace_period_nor_pod_security_context() -> None:
    (isvc,) = [o for o in objects(render_all({})) if o["kind"] == "InferenceService"]
    pred = isvc["spec"]["predictor"]
    assert "terminationGracePeriodSeconds" not in pred and "securityContext" not in pred
    assert admission_errors({}, "0.20", set()) == []
    sc = pred["containers"][0]["securityContext"]
    assert sc["runAsNonRoot"] and sc["runAsUser"] == 1000 and sc["seccompProfile"] == {"type": "RuntimeDefault"}
    # With the flag value set, the pod securityContext comes back, and the NOTES ask for the Knative flag.
    values = {"knative": {"podSpecSecurityContext": True}}
    (isvc,) = [o for o in objects(render_all(values)) if o["kind"] == "InferenceService"]
    assert isvc["spec"]["predictor"]["securityContext"]["fsGroup"] == 1000
    assert admission.SECURITYCONTEXT in notes_flags(render_all(values))
    assert admission_errors(values, "0.20") == []
    assert any("securityContext" in e for e in admission_errors(values, "0.20", set()))


def test_standard_mode_keeps_pod_security_context_and_a_long_grace_period() -> None:
    values = AUTOSCALERS["hpa"]
    (isvc,) = [o for o in objects(render_all(values)) if o["kind"] == "InferenceService"]
    pred = isvc["spec"]["predictor"]
    assert pred["securityContext"]["fsGroup"] == 1000
    assert pred["terminationGracePeriodSeconds"] >= pred["timeout"] == 120
    env = {e["name"]: e for e in pred["containers"][0]["env"]}
    assert env["TTS_CPU_LIMIT_MILLICORES"]["valueFrom"]["resourceFieldRef"] == {
        "containerName": "kserve-container",
        "resource": "limits.cpu",
        "divisor": "1m",
    }


@pytest.mark.parametrize(("cpu", "expected"), [("2", "2000"), ("1500m", "1500"), (1.5, "1500")])
def test_knative_cpu_limit_passed_as_literal(cpu: Any, expected: str) -> None:
    values = {"predictor": {"resources": {"limits": {"cpu": cpu}}}}
    (isvc,) = [o for o in objects(render_all(values)) if o["kind"] == "InferenceService"]
    env = {e["name"]: e for e in isvc["spec"]["predictor"]["containers"][0]["env"]}
    assert env["TTS_CPU_LIMIT_MILLICORES"] == {"name": "TTS_CPU_LIMIT_MILLICORES", "value": expected}


@pytest.mark.parametrize(("cpu", "concurrency"), [("2", "2"), ("1500m", "1"), ("500m", "1"), ("4", "4"), (2.5, "2")])
def test_auto_concurrency_matches_what_the_server_picks(cpu: Any, concurrency: str) -> None:
    """admission.maxConcurrency=0: the chart writes what tts_predictor/server/cpus.py picks under that quota."""
    from tts_predictor.server.cpus import CpuBudget

    values = {"predictor": {"resources": {"limits": {"cpu": cpu}}}}
    (isvc,) = [o for o in objects(render_all(values)) if o["kind"] == "InferenceService"]
    env = {e["name"]: e.get("value") for e in isvc["spec"]["predictor"]["containers"][0]["env"]}
    assert env["TTS_MAX_CONCURRENCY"] == concurrency
    assert str(CpuBudget(int(env["TTS_CPU_LIMIT_MILLICORES"]) / 1000, "limit").whole) == concurrency
    assert isvc["spec"]["predictor"]["containerConcurrency"] == int(concurrency) + 16


def test_keda_target_is_value_and_transformer_has_its_own_metric() -> None:
    values = _merge(AUTOSCALERS["keda"], EXTRAS["transformer"])
    (isvc,) = [o for o in objects(render_all(values)) if o["kind"] == "InferenceService"]
    (metric,) = isvc["spec"]["predictor"]["autoScaling"]["metrics"]
    assert metric["external"]["target"] == {"type": "Value", "value": "4"}
    (tmetric,) = isvc["spec"]["transformer"]["autoScaling"]["metrics"]
    assert tmetric["resource"] == {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}


@pytest.mark.parametrize(
    ("version", "knative", "standard"),
    [("0.15", "Serverless", "RawDeployment"), ("0.16.0", "Knative", "Standard"), ("0.17", "Knative", "Standard")],
)
@pytest.mark.parametrize("asked", ["", "Serverless", "Knative", "RawDeployment", "Standard"])
def test_mode_spelled_per_kserve_version(version: str, knative: str, standard: str, asked: str) -> None:
    family_standard = asked in ("RawDeployment", "Standard")
    values = _merge(
        {"kserve": {"version": version}, "inferenceService": {"deploymentMode": asked}},
        AUTOSCALERS["hpa"] if family_standard else {},
    )
    (isvc,) = [o for o in objects(render_all(values)) if o["kind"] == "InferenceService"]
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == (
        standard if family_standard else knative
    )


@pytest.mark.parametrize("extras", ["plain", "transformer"])
@pytest.mark.parametrize("scaler", ["kpa", "hpa", "keda"])
def test_helm_test_targets_the_entry_point_service(scaler: str, extras: str) -> None:
    values = _merge(AUTOSCALERS[scaler], EXTRAS[extras])
    (pod,) = [o for o in objects(render_all(values)) if o["kind"] == "Pod"]
    component = "transformer" if extras == "transformer" else "predictor"
    script = pod["spec"]["containers"][0]["args"][0]
    assert f'"http://tts-tts-predictor-{component}.models.svc.cluster.local/v2/models/tts/infer"' in script


def test_fractional_kpa_target_travels_as_annotation_only() -> None:
    (isvc,) = [o for o in objects(render_all(AUTOSCALERS["kpa-fractional"])) if o["kind"] == "InferenceService"]
    pred = isvc["spec"]["predictor"]
    assert "scaleTarget" not in pred
    assert admission.knative_component_annotations(isvc, "predictor")["autoscaling.knative.dev/target"] == "2.5"
    with pytest.raises(helm.HelmError, match="integer"):
        render_all(_merge(AUTOSCALERS["hpa"], {"autoscaling": {"target": 70.5}}))


def test_kpa_annotations_do_not_reach_the_transformer() -> None:
    (isvc,) = [o for o in objects(render_all(EXTRAS["transformer"])) if o["kind"] == "InferenceService"]
    assert not any(k.startswith("autoscaling.knative.dev/") for k in isvc["metadata"].get("annotations", {}))
    anns = admission.knative_component_annotations(isvc, "transformer")
    assert "autoscaling.knative.dev/metric" not in anns and "autoscaling.knative.dev/target" not in anns


@pytest.mark.parametrize("version", ["0.16.0", "0.17", "0.20"])
def test_graph_router_outlasts_a_tts_request(version: str) -> None:
    objs = objects(render_all({"kserve": {"version": version}, "graph": {"enabled": True}}))
    (graph,) = [o for o in objs if o["kind"] == "InferenceGraph"]
    (isvc,) = [o for o in objs if o["kind"] == "InferenceService"]
    assert admission.router_write_timeout(graph, version) > isvc["spec"]["predictor"]["timeout"]


def test_graph_router_timeouts_refused_on_0_15() -> None:
    with pytest.raises(helm.HelmError, match="needs KServe >= 0.16"):
        render_all({"kserve": {"version": "0.15"}, "graph": {"enabled": True, "routerTimeouts": {"serverWrite": 300}}})
    objs = objects(render_all({"kserve": {"version": "0.15"}, "graph": {"enabled": True}}))
    (graph,) = [o for o in objs if o["kind"] == "InferenceGraph"]
    assert "routerTimeouts" not in graph["spec"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"kserve": {"version": "0.14"}}, "needs KServe >= 0.15"),
        ({"kserve": {"version": "latest"}}, "kserve.version"),
        (
            {
                "autoscaling": {"class": "hpa", "metric": "cpu", "target": 70},
                "predictor": {"terminationGracePeriodSeconds": 30},
            },
            "below predictor.timeout",
        ),
        ({"graph": {"enabled": True, "routerTimeouts": {"serverWrite": 60}}}, "below predictor.timeout"),
        ({"metrics": {"serviceMonitor": {"enabled": True}}, "grpc": {"enabled": True}}, "h2c only"),
    ],
)
def test_bad_values_fail(values: dict[str, Any], message: str) -> None:
    with pytest.raises(helm.HelmError, match=message):
        render_all(values)


@pytest.mark.parametrize("scaler", ["hpa", "keda"])
def test_scaling_on_cpu_needs_cpu_requests(scaler: str) -> None:
    """HPA (and KEDA's cpu trigger, an HPA Resource metric underneath) compute utilization from requests: the
    chart refuses hpa/keda without a CPU request on a component that scales on CPU."""
    values = _merge(AUTOSCALERS[scaler], EXTRAS["transformer"])
    assert admission_errors(values, "0.20") == []
    component = "predictor" if scaler == "hpa" else "transformer"
    no_request = _merge(values, {component: {"resources": {"requests": {"cpu": None}}}})
    with pytest.raises(helm.HelmError, match="CPU request"):
        render_all(no_request)
    (isvc,) = [o for o in objects(render_all(values)) if o["kind"] == "InferenceService"]
    comp = copy.deepcopy(isvc["spec"][component])
    del comp["containers"][0]["resources"]["requests"]["cpu"]
    check = admission.hpa_errors if scaler == "hpa" else admission.keda_scaled_object_errors
    assert check(comp) == ["container 'kserve-container' has no cpu request (utilization scaling needs one)"]


def test_oci_model_image_renders_for_the_modelcar() -> None:
    (isvc,) = [o for o in objects(render_all(STORAGE["oci"])) if o["kind"] == "InferenceService"]
    env = {e["name"]: e.get("value") for e in isvc["spec"]["predictor"]["containers"][0]["env"]}
    # KServe's storage-initializer injector sees STORAGE_URI on kserve-container; for oci:// it adds the modelcar
    # and MODEL_INIT_MODE=async (pkg/utils/storage.go ConfigureModelcarToContainer), which the server honours.
    assert env["STORAGE_URI"] == "oci://ghcr.io/example/tts-voice:1" and env["TTS_MODEL"] == "/mnt/models"
    assert "MODEL_INIT_MODE" not in env


def test_pythonpath_refused_at_render() -> None:
    """KServe >= 0.18 refuses PYTHONPATH on any container (validateBlockedEnvVars); the chart says so first."""
    with pytest.raises(helm.HelmError, match="PYTHONPATH"):
        render_all({"extraEnv": {"PYTHONPATH": "/x"}})
    with pytest.raises(helm.HelmError, match="PYTHONPATH"):
        render_all({"env": [{"name": "PYTHONPATH", "value": "/x"}]})


# Sabotage: each ported rule refuses what its upstream refuses.


def _isvc(annotations: dict[str, str], predictor: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "tts", "annotations": annotations}, "spec": {"predictor": predictor}}


def test_knative_rules_refuse_what_upstream_refuses() -> None:
    (isvc,) = [o for o in objects(render_all(AUTOSCALERS["hpa"])) if o["kind"] == "InferenceService"]
    spec = admission.pod_spec_of(isvc["spec"]["predictor"])  # the Standard render: grace period, pod SC, fieldRef
    errors = admission.knative_pod_errors(spec)
    assert "must not set the field(s): terminationGracePeriodSeconds" in errors
    assert any("securityContext (needs kubernetes.podspec-securitycontext)" in e for e in errors)
    assert any("valueFrom (needs kubernetes.podspec-fieldref)" in e for e in errors)
    bad = copy.deepcopy(spec)
    bad.pop("terminationGracePeriodSeconds"), bad.pop("securityContext")
    c = bad["containers"][0]
    c["env"] = [{"name": "PORT", "value": "1"}]
    c["ports"].append({"name": "grpc", "containerPort": 9090})
    c["readinessProbe"] = {"httpGet": {"port": "admin"}}
    c["lifecycle"] = {"preStop": {}}
    c["volumeMounts"].append({"name": "cache", "mountPath": "/dev"})
    c["livenessProbe"] = {"httpGet": {"path": "/v2/health/live"}}
    assert admission.knative_pod_errors(bad) == [
        "more than one container port is set",
        "containers[kserve-container]: must not set the field(s): lifecycle",
        "containers[kserve-container]: 'PORT' is a reserved environment variable",
        "containers[kserve-container]: readinessProbe: httpGet.port admin: Probe port must match container port",
        "containers[kserve-container]: mountPath '/dev' is a reserved path",
    ]
    # Knative's defaulting fills a bare readiness probe; periodSeconds 0 (aggressive probing) refuses a timeout.
    probe_only = {"containers": [{"name": "c", "image": "i", "readinessProbe": {"httpGet": {"path": "/r"}}}]}
    assert admission.knative_pod_errors(probe_only) == []
    probe_only["containers"][0]["readinessProbe"]["timeoutSeconds"] = 5
    assert admission.knative_pod_errors(probe_only) == [
        "containers[c]: readinessProbe: timeoutSeconds is disallowed when periodSeconds is zero"
    ]
    assert admission.knative_revision_errors(
        {"timeout": 601, "containerConcurrency": 1001},
        {
            "autoscaling.knative.dev/target": "0",
            "serving.knative.dev/progress-deadline": "1.5s",
        },
    ) == [
        "timeoutSeconds 601 outside [0, 600]",
        "containerConcurrency 1001 outside [0, 1000]",
        "invalid progress-deadline '1.5s'",
        "target 0 should be at least 0.01",
    ]


def test_kserve_rules_refuse_what_upstream_refuses() -> None:
    hpa = {"scaleMetric": "cpu", "scaleTarget": 70}
    legacy = _isvc(
        {"serving.kserve.io/deploymentMode": "RawDeployment", "serving.kserve.io/autoscalerClass": "hpa"}, hpa
    )
    # KServe 0.16.0: HPA under the legacy name is validated as KPA, and the next update is refused.
    assert admission.kserve_isvc_errors(admission.kserve_default(legacy, "0.16.0"), "0.16.0") == [
        "predictor: [cpu] is not a supported metric",
        "update rejected: deploymentMode cannot be changed from 'Standard' to 'RawDeployment'",
    ]
    # 0.17 normalizes it in the defaulter; 0.15 knows only the legacy name.
    assert admission.kserve_isvc_errors(admission.kserve_default(legacy, "0.17"), "0.17") == []
    assert admission.kserve_isvc_errors(legacy, "0.15") == []
    new = _isvc({"serving.kserve.io/deploymentMode": "Standard", "serving.kserve.io/autoscalerClass": "hpa"}, hpa)
    assert admission.kserve_isvc_errors(new, "0.15") == [
        "deploymentMode 'Standard' unknown to KServe 0.15",
        "predictor: [cpu] is not a supported metric",
    ]
    external = {"type": "External", "external": {"metric": {"backend": "prometheus", "query": "q"}}}
    keda = {"serving.kserve.io/deploymentMode": "Standard", "serving.kserve.io/autoscalerClass": "keda"}
    old_shape = copy.deepcopy(external)
    old_shape["external"]["target"] = {"type": "AverageValue", "averageValue": "4"}
    assert admission.kserve_isvc_errors(_isvc(keda, {"autoScaling": {"metrics": [old_shape]}}), "0.20") == [
        "predictor: the target threshold value should not be empty"
    ]
    assert admission.kserve_isvc_errors(_isvc(keda, {}), "0.20") == ["predictor: ScaledObject with no triggers"]
    assert admission.kserve_isvc_errors(_isvc({}, {"scaleTarget": 2.5}), "0.20") == [
        "predictor: scaleTarget must be an int32"
    ]
    blocked = _isvc({}, {"containers": [{"name": "kserve-container", "env": [{"name": "PYTHONPATH", "value": "/x"}]}]})
    assert admission.kserve_isvc_errors(blocked, "0.17") == []
    assert admission.kserve_isvc_errors(blocked, "0.20") == [
        "setting PYTHONPATH in container 'kserve-container' is not allowed for security reasons"
    ]
    formats = [{"name": "a", "autoSelect": True, "priority": 1}, {"name": "a", "autoSelect": True, "priority": 2}]
    assert admission.serving_runtime_errors({"spec": {"supportedModelFormats": formats}}, "0.20") == [
        "different priorities assigned for the model format a"
    ]
    graph = {
        "metadata": {"name": "g"},
        "spec": {"routerTimeouts": {"serverWrite": 9}, "nodes": {"root": {"steps": []}}},
    }
    assert admission.graph_webhook_errors(graph, "0.15") == ["spec.routerTimeouts unknown before KServe 0.16 (pruned)"]


def test_piper_voices_init_container_admitted_with_the_flag_notes_print() -> None:
    """The voices init container passes KServe and Knative admission with the flags the NOTES print, and stock
    Knative (no kubernetes.podspec-init-containers) refuses it, as the NOTES warn."""
    values = {"voices": {"pull": ["en_GB-alan-medium"]}}
    assert admission_errors(values, admission.KSERVE_VERSIONS[-1]) == []
    refused = admission_errors(values, admission.KSERVE_VERSIONS[-1], features=set())
    assert any("initContainers" in e for e in refused), refused
