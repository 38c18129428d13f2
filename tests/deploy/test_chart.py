"""Render charts/tts-predictor offline (helm-python-sdk) for a matrix of values and check the objects."""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
from typing import Any

import pytest
import yaml

helm = pytest.importorskip("helm_python")
import admission  # noqa: E402
from kube_schemas import ROOT, validate  # noqa: E402

CHART = ROOT / "charts" / "tts-predictor"
PROBE_PATHS = {"/v2/health/ready", "/v2/health/live"}
CASES: dict[str, dict[str, Any]] = {
    "cpu-default": {},
    "gpu": {"gpu": {"enabled": True}},
    "arm64": {"arch": "arm64", "transformer": {"enabled": True}},
    "transformer": {"transformer": {"enabled": True}},
    "hpa": {"autoscaling": {"class": "hpa", "metric": "cpu", "target": 70}},
    "keda": {
        "autoscaling": {
            "class": "keda",
            "metric": "queue",
            "target": 4,
            "prometheus": {"serverAddress": "http://prometheus.monitoring:9090"},
        },
        "inferenceService": {"deploymentMode": "Standard"},
    },
    "kpa-scale-to-zero": {"autoscaling": {"minReplicas": 0, "metric": "rps", "target": 10}},
    "ray": {"ray": {"enabled": True, "numReplicas": 3, "cpusPerReplica": 2}},
    "graph": {"graph": {"enabled": True}},
    "graph-no-translation": {"graph": {"enabled": True, "translation": {"enabled": False}}},
    "storageuri": {"model": {"source": "storageUri", "storageUri": "s3://bucket/voices/en"}},
    "coqui": {"model": {"source": "coqui", "coquiName": "tts_models/en/vctk/vits"}},
    "piper-voices": {
        "model": {"source": "piper", "piperVoices": ["en_GB-alan-medium"]},
        "voices": {"pull": ["de_DE-thorsten-medium", "en_GB-alan-medium"], "mirrorUrl": "http://mirror.local/piper"},
    },
    "grpc": {"grpc": {"enabled": True}},
    "servingruntime": {"servingRuntime": {"enabled": True}},
    "clusterservingruntime": {"servingRuntime": {"enabled": True, "kind": "ClusterServingRuntime"}},
    "cloned-voices-claim": {
        "clonedVoices": {"maxVoices": 20, "persistence": {"enabled": True, "storageClass": "efs", "size": "5Gi"}},
        "transformer": {"enabled": True},
    },
    "cloned-voices-existing-claim": {
        "clonedVoices": {"persistence": {"enabled": True, "existingClaim": "team-voices", "mountPath": "/voices"}},
        "autoscaling": {"class": "hpa", "metric": "cpu", "target": 70},
    },
    "everything": {
        "gpu": {"enabled": True},
        "arch": "amd64",
        "transformer": {"enabled": True},
        "ray": {"enabled": True, "gpusPerReplica": 0.5},
        "apiKeys": {"keys": ["k1", "k2"]},
        "imagePullSecrets": [{"name": "regcred"}],
        "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
        "extraEnv": {"TTS_LOG_LEVEL": "DEBUG"},
        "admission": {"maxConcurrency": 2, "maxQueue": 6},
        "envFrom": [{"configMapRef": {"name": "tts-settings"}}],
        "predictor": {"serviceAccountName": "models-sa", "annotations": {"a": "b"}},
        "inferenceService": {"deploymentMode": "Serverless", "annotations": {"x": "y"}},
        "metrics": {"kserveAggregation": True, "serviceMonitor": {"enabled": True}},
        "pdb": {"enabled": True},
        "networkPolicy": {"enabled": True},
        "servingRuntime": {"enabled": True},
        "graph": {"enabled": True},
        "clonedVoices": {"persistence": {"enabled": True, "annotations": {"helm.sh/resource-policy": "keep"}}},
    },
}

CASES["edge"] = yaml.safe_load((CHART / "values-edge.yaml").read_text())
"""The small-node values file shipped beside values.yaml (docs/edge.md): rendered and checked like every case."""


@functools.cache
def _chart() -> Any:
    return helm.Chart.load(CHART)


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    rendered = _chart().render(copy.deepcopy(values), name="tts", namespace="models")
    return [
        obj
        for path, text in sorted(rendered.items())
        if path.endswith(".yaml")
        for obj in yaml.safe_load_all(text)
        if obj
    ]


@functools.cache
def rendered_case(case: str) -> list[dict[str, Any]]:
    return render(CASES[case])


def one(objs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [o for o in objs if o["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def pod_specs(objs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(where, pod-like spec) for every pod the objects create."""
    specs = []
    for o in objs:
        if o["kind"] == "InferenceService":
            specs += [(f"isvc.{c}", o["spec"][c]) for c in ("predictor", "transformer") if c in o["spec"]]
        elif o["kind"] == "Pod":
            specs.append((f"pod/{o['metadata']['name']}", o["spec"]))
    return specs


def main_container(isvc: dict[str, Any], component: str = "predictor") -> dict[str, Any]:
    (container,) = isvc["spec"][component]["containers"]
    assert container["name"] == "kserve-container"
    return container


def env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


@pytest.mark.parametrize("case", CASES)
def test_renders_valid_objects(case: str) -> None:
    objs = rendered_case(case)
    assert objs
    for obj in objs:
        validate(obj)


@pytest.mark.parametrize("case", ["cpu-default", "gpu", "hpa", "everything", "edge"])
def test_lint_clean(case: str) -> None:
    report = helm.lint(CHART, copy.deepcopy(CASES[case]), strict=True, kube_version="v1.30.0")
    problems = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
    assert not problems, problems


@pytest.mark.parametrize("case", CASES)
def test_security_context_everywhere(case: str) -> None:
    objs = rendered_case(case)
    mode = one(objs, "InferenceService")["metadata"]["annotations"]["serving.kserve.io/deploymentMode"]
    for where, spec in pod_specs(objs):
        # Stock Knative refuses a pod-level securityContext (knative.podSpecSecurityContext renders it).
        if mode == "Knative" and where.startswith("isvc."):
            assert "securityContext" not in spec, where
        else:
            assert spec["securityContext"]["runAsNonRoot"] is True, where
            assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] and sc["runAsUser"] == 1000, where
            assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"]["drop"] == ["ALL"] and sc["seccompProfile"]["type"] == "RuntimeDefault", where
    for rt in [o for o in rendered_case(case) if o["kind"].endswith("ServingRuntime")]:
        for c in rt["spec"]["containers"]:
            assert c["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize("case", CASES)
def test_writable_cache_and_tmp_mounted(case: str) -> None:
    for where, spec in pod_specs(rendered_case(case)):
        if where.startswith("pod/"):
            continue
        volumes = {v["name"]: v for v in spec["volumes"]}
        for c in spec["containers"]:
            mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
            assert "emptyDir" in volumes[mounts["/var/cache/tts"]] and "emptyDir" in volumes[mounts["/tmp"]], where


@pytest.mark.parametrize("case", CASES)
def test_probe_paths(case: str) -> None:
    objs = rendered_case(case)
    containers = [c for _, spec in pod_specs(objs) for c in spec["containers"]]
    containers += [c for o in objs if o["kind"].endswith("ServingRuntime") for c in o["spec"]["containers"]]
    for c in containers:
        if c["name"] != "kserve-container":
            continue
        assert {"readinessProbe", "livenessProbe"} <= c.keys()
        for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
            probe = c.get(kind)
            if not probe:
                continue
            if "httpGet" in probe:
                assert probe["httpGet"]["path"] in PROBE_PATHS and probe["httpGet"]["port"] == 8080
            else:
                assert any(p in probe["exec"]["command"][-1] for p in PROBE_PATHS)
    isvc = one(objs, "InferenceService")
    pred = main_container(isvc)
    assert pred["readinessProbe"] != {} and "/ready" in json.dumps(pred["readinessProbe"])
    assert "/live" in json.dumps(pred["livenessProbe"])


def test_default_predictor() -> None:
    objs = rendered_case("cpu-default")
    assert {o["kind"] for o in objs} == {"InferenceService", "Pod"}
    isvc = one(objs, "InferenceService")
    c = main_container(isvc)
    assert c["image"] == "ghcr.io/example/tts-predictor:0.1.0"
    assert c["args"] == ["serve", "--model_name", "tts", "--http_port", "8080", "--grpc_port", "8081"]
    assert env(c) == {
        "PROTOCOL": "v2",
        # admission.maxConcurrency=0 (auto): the whole CPUs of limits.cpu ("2"), as the server would pick.
        "TTS_MAX_CONCURRENCY": "2",
        "TTS_MAX_QUEUE": "16",
        "TTS_MODEL": "embedded",
        "TTS_MAX_CLONED_VOICES": "100",
        # Knative mode without kubernetes.podspec-fieldref: the limit from values, in millicores.
        "TTS_CPU_LIMIT_MILLICORES": "2000",
    }
    assert "terminationGracePeriodSeconds" not in isvc["spec"]["predictor"]
    # containerConcurrency=auto: what one pod holds (running + queued), so Knative queues the rest.
    assert isvc["spec"]["predictor"]["containerConcurrency"] == 18
    assert isvc["spec"]["predictor"]["annotations"] == {
        "autoscaling.knative.dev/class": "kpa.autoscaling.knative.dev",
        "autoscaling.knative.dev/metric": "concurrency",
        "autoscaling.knative.dev/target": "2",
        "serving.knative.dev/progress-deadline": "30m",
    }
    assert not any(k.startswith("autoscaling.knative.dev/") for k in isvc["metadata"]["annotations"])
    assert "cloned-voices" not in json.dumps(isvc)
    assert c["ports"] == [{"name": "http1", "containerPort": 8080, "protocol": "TCP"}]
    assert c["startupProbe"]["failureThreshold"] * c["startupProbe"]["periodSeconds"] >= 300
    assert "nvidia.com/gpu" not in json.dumps(isvc)
    assert "nodeSelector" not in isvc["spec"]["predictor"]


def test_gpu() -> None:
    isvc = one(rendered_case("gpu"), "InferenceService")
    pred, c = isvc["spec"]["predictor"], main_container(isvc)
    assert c["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert env(c)["TTS_DEVICE"] == "cuda"
    assert c["image"].endswith(":0.1.0-cuda")
    assert pred["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pred["tolerations"]


def test_arm64_selector_on_every_component() -> None:
    isvc = one(rendered_case("arm64"), "InferenceService")
    for component in ("predictor", "transformer"):
        assert isvc["spec"][component]["nodeSelector"]["kubernetes.io/arch"] == "arm64"
    assert "nvidia.com/gpu" not in json.dumps(isvc)


def test_edge_values_for_small_nodes() -> None:
    """values-edge.yaml: a plain Deployment (Standard mode, one pod), arm64, the ONNX-only image of this chart's
    appVersion, int8, one thread and one engine slot, small caches and memory."""
    objs = rendered_case("edge")
    isvc = one(objs, "InferenceService")
    pred, c = isvc["spec"]["predictor"], main_container(isvc)
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"
    assert not any(
        k.startswith(("autoscaling.knative.dev/", "serving.knative.dev/")) for k in json.dumps(isvc).split('"')
    )
    assert pred["minReplicas"] == pred["maxReplicas"] == 1
    assert pred["nodeSelector"] == {"kubernetes.io/arch": "arm64"}
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    assert c["image"] == f"ghcr.io/example/tts-predictor:{app_version}-onnx"
    e = env(c)
    assert (e["TTS_COMPUTE_TYPE"], e["TTS_THREADS"], e["TTS_MAX_CONCURRENCY"], e["TTS_MODEL"]) == (
        "int8",
        "1",
        "1",
        "embedded",
    )
    assert int(e["TTS_CACHE_MAX_BYTES"]) <= 8 * 2**20
    assert c["resources"]["limits"] == {"cpu": "1", "memory": "1280Mi"}
    volumes = {v["name"]: v for v in pred["volumes"]}
    assert volumes["cache"]["emptyDir"]["sizeLimit"] == "512Mi"


def test_transformer() -> None:
    isvc = one(rendered_case("transformer"), "InferenceService")
    c = main_container(isvc, "transformer")
    assert c["args"] == ["transformer", "--model_name", "tts", "--predictor_protocol", "v2"]
    assert c["image"] == main_container(isvc)["image"]
    assert env(c) == {"PROTOCOL": "v2"}
    # KServe turns a transformer's containerConcurrency into `--workers N` (transformer_custom.go).
    assert "containerConcurrency" not in isvc["spec"]["transformer"]


def test_hpa() -> None:
    isvc = one(rendered_case("hpa"), "InferenceService")
    ann = isvc["metadata"]["annotations"]
    assert ann["serving.kserve.io/autoscalerClass"] == "hpa"
    # Never KServe keys / ignored since KServe 0.15: the metric travels in spec.
    assert "serving.kserve.io/metric" not in ann and "serving.kserve.io/targetUtilizationPercentage" not in ann
    assert ann["serving.kserve.io/deploymentMode"] == "Standard"
    assert not any(k.startswith("autoscaling.knative.dev/") for k in ann)
    pred = isvc["spec"]["predictor"]
    assert (pred["scaleMetric"], pred["scaleTarget"]) == ("cpu", 70)
    assert "serving.knative.dev/progress-deadline" not in json.dumps(isvc)


def test_keda_scales_on_queue_depth() -> None:
    isvc = one(rendered_case("keda"), "InferenceService")
    ann, pred = isvc["metadata"]["annotations"], isvc["spec"]["predictor"]
    assert ann["serving.kserve.io/autoscalerClass"] == "keda"
    assert ann["serving.kserve.io/deploymentMode"] == "Standard"
    assert "scaleMetric" not in pred
    (metric,) = pred["autoScaling"]["metrics"]
    assert metric["type"] == "External"
    ext = metric["external"]
    assert ext["metric"]["backend"] == "prometheus"
    assert ext["metric"]["serverAddress"] == "http://prometheus.monitoring:9090"
    assert "tts_queued_requests" in ext["metric"]["query"] and "tts_in_flight_requests" in ext["metric"]["query"]
    assert 'namespace="models"' in ext["metric"]["query"]
    # KServe's webhook requires target.value; its KEDA reconciler reads only Target.Value.
    assert ext["target"] == {"type": "Value", "value": "4"}


def test_kpa_scale_to_zero() -> None:
    isvc = one(rendered_case("kpa-scale-to-zero"), "InferenceService")
    # On the predictor only: InferenceService-level annotations would also scale the transformer.
    pred = isvc["spec"]["predictor"]
    ann = pred["annotations"]
    assert ann["autoscaling.knative.dev/class"] == "kpa.autoscaling.knative.dev"
    assert ann["autoscaling.knative.dev/metric"] == "rps" and ann["autoscaling.knative.dev/target"] == "10"
    assert "autoscaling.knative.dev/scale-to-zero-pod-retention-period" in ann
    assert (pred["minReplicas"], pred["maxReplicas"], pred["scaleMetric"], pred["scaleTarget"]) == (0, 3, "rps", 10)


def test_ray_env() -> None:
    c = main_container(one(rendered_case("ray"), "InferenceService"))
    assert {k: v for k, v in env(c).items() if k.startswith("TTS_RAY_")} == {
        "TTS_RAY_NUM_REPLICAS": "3",
        "TTS_RAY_NUM_CPUS": "2",
        "TTS_RAY_NUM_GPUS": "0",
    }


@pytest.mark.parametrize(
    ("case", "expected"),
    [("storageuri", "/mnt/models"), ("coqui", "coqui:tts_models/en/vctk/vits"), ("cpu-default", "embedded")],
)
def test_model_source(case: str, expected: str) -> None:
    c = main_container(one(rendered_case(case), "InferenceService"))
    assert env(c)["TTS_MODEL"] == expected
    assert ("STORAGE_URI" in env(c)) == (case == "storageuri")
    if case == "storageuri":
        assert env(c)["STORAGE_URI"] == "s3://bucket/voices/en"


def test_piper_voices_are_pulled_by_an_init_container() -> None:
    """voices.pull and model.piperVoices: one init container runs `voices pull` with the server's image, security
    context and cache mounts; the mirror URL reaches both; TTS_MODEL names the catalogue voice. None by default."""
    isvc = one(rendered_case("piper-voices"), "InferenceService")
    (init,) = isvc["spec"]["predictor"]["initContainers"]
    main = main_container(isvc)
    assert init["args"] == ["voices", "pull", "de_DE-thorsten-medium", "en_GB-alan-medium"]
    assert init["image"] == main["image"] and init["securityContext"] == main["securityContext"]
    assert init["volumeMounts"] == main["volumeMounts"]
    assert env(init) == {"TTS_PIPER_VOICES_URL": "http://mirror.local/piper"}
    assert env(main)["TTS_PIPER_VOICES_URL"] == "http://mirror.local/piper"
    assert env(main)["TTS_MODEL"] == "piper:en_GB-alan-medium"
    assert "kubernetes.podspec-init-containers" in notes(CASES["piper-voices"])
    default = one(rendered_case("cpu-default"), "InferenceService")
    assert "initContainers" not in default["spec"]["predictor"]
    assert "TTS_PIPER_VOICES_URL" not in env(main_container(default))


def test_grpc_switches_the_single_port_to_h2c() -> None:
    c = main_container(one(rendered_case("grpc"), "InferenceService"))
    assert c["ports"] == [{"name": "h2c", "containerPort": 8081, "protocol": "TCP"}]
    assert all("exec" in c[p] for p in ("readinessProbe", "livenessProbe", "startupProbe"))


@pytest.mark.parametrize("translation", [True, False])
def test_inference_graph(translation: bool) -> None:
    objs = rendered_case("graph" if translation else "graph-no-translation")
    graph = one(objs, "InferenceGraph")
    root = graph["spec"]["nodes"]["root"]
    assert root["routerType"] == "Sequence"
    names = [s["name"] for s in root["steps"]]
    assert names == (["asr", "translation", "tts"] if translation else ["asr", "tts"])
    assert [s["data"] for s in root["steps"]] == ["$request"] + ["$response"] * (len(names) - 1)
    *external, tts = root["steps"]
    # The TTS step names the InferenceService only; KServe resolves the URL in every mode.
    assert tts == {"name": "tts", "serviceName": "tts-tts-predictor", "data": "$response", "dependency": "Hard"}
    assert external[0]["serviceUrl"] == "http://whisper-predictor.models.svc.cluster.local/v2/models/whisper/infer"
    assert all("serviceName" not in s for s in external)
    assert graph["metadata"]["annotations"] == {"serving.kserve.io/deploymentMode": "Knative"}
    # KServe's 60 s router default would cut a 120 s TTS request: the chart defaults it to timeout + 30.
    assert graph["spec"]["routerTimeouts"] == {"serverWrite": 150}


def test_inference_graph_timeouts_and_urls_from_values() -> None:
    graph = one(
        render(
            {
                "graph": {
                    "enabled": True,
                    "timeout": 300,
                    "routerTimeouts": {"serverWrite": 300, "serviceClient": 120},
                    "asr": {"url": "https://asr.example.com/v2/models/whisper/infer"},
                }
            }
        ),
        "InferenceGraph",
    )
    assert graph["spec"]["timeout"] == 300
    assert graph["spec"]["routerTimeouts"] == {"serverWrite": 300, "serviceClient": 120}
    assert graph["spec"]["nodes"]["root"]["steps"][0]["serviceUrl"] == "https://asr.example.com/v2/models/whisper/infer"


def webhook_errors(graph: dict[str, Any]) -> list[str]:
    """What KServe's InferenceGraph webhook (ported in tests/support/admission.py) refuses in `graph`."""
    return admission.graph_webhook_errors(graph, admission.KSERVE_VERSIONS[-1])


def service_step_path(isvc: dict[str, Any]) -> str:
    """The path KServe appends to status.address.url for a serviceName step.

    Mirrors pkg/controller/v1beta1/inferenceservice/utils/utils.go GetModelName (lines 94-142) and
    GetPredictorEndpoint (145-205): model name from `--model_name` in the transformer's args (else the
    predictor's), protocol from env PROTOCOL of that container (transformer_custom.go 119-126,
    predictor_custom.go 118-124; default v1), path from constants.PredictPath.
    """
    component = "transformer" if "transformer" in isvc["spec"] else "predictor"
    container = isvc["spec"][component]["containers"][0]
    args = container["args"]
    model = args[args.index("--model_name") + 1] if "--model_name" in args else isvc["metadata"]["name"]
    protocol = env(container).get("PROTOCOL", "v1")
    return {"v1": f"/v1/models/{model}:predict", "v2": f"/v2/models/{model}/infer"}.get(protocol, "")


HPA = {"class": "hpa", "metric": "cpu", "target": 70}
MODES: dict[str, dict[str, Any]] = {
    "cluster-default": {},
    "Knative": {"inferenceService": {"deploymentMode": "Knative"}},
    "Serverless": {"inferenceService": {"deploymentMode": "Serverless"}},
    "Standard": {"inferenceService": {"deploymentMode": "Standard"}, "autoscaling": HPA},
    "RawDeployment": {"inferenceService": {"deploymentMode": "RawDeployment"}, "autoscaling": HPA},
    "hpa-implied": {"autoscaling": HPA},
}
FEATURES: dict[str, dict[str, Any]] = {
    "graph": {"graph": {"enabled": True}},
    "transformer": {"transformer": {"enabled": True}},
    "gpu": {"gpu": {"enabled": True}},
    "arm64": {"arch": "arm64"},
    "graph+transformer+gpu": {"graph": {"enabled": True}, "transformer": {"enabled": True}, "gpu": {"enabled": True}},
    "graph+transformer+arm64": {"graph": {"enabled": True}, "transformer": {"enabled": True}, "arch": "arm64"},
}


def _merge(*parts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            out[key] = _merge(out.get(key, {}), value) if isinstance(value, dict) else value
    return out


def notes(values: dict[str, Any]) -> str:
    rendered = _chart().render(copy.deepcopy(values), name="tts", namespace="models")
    return next(text for path, text in rendered.items() if path.endswith("NOTES.txt"))


@pytest.mark.parametrize("feature", FEATURES)
@pytest.mark.parametrize("mode", MODES)
def test_every_mode_renders_what_kserve_admits(mode: str, feature: str) -> None:
    values = _merge(MODES[mode], FEATURES[feature])
    objs = render(values)
    for obj in objs:
        validate(obj)
    isvc = one(objs, "InferenceService")
    isvc_mode = isvc["metadata"].get("annotations", {}).get("serving.kserve.io/deploymentMode")
    # Written in the spelling of kserve.version (default: current, Knative/Standard) whatever the values say.
    assert isvc_mode == ("Standard" if "autoscaling" in MODES[mode] else "Knative")
    for component in ("predictor", "transformer"):
        if component in isvc["spec"]:
            assert env(main_container(isvc, component))["PROTOCOL"] == "v2", component
    assert "containerConcurrency" not in isvc["spec"].get("transformer", {})
    knative = isvc_mode == "Knative"
    annotations = isvc["spec"]["predictor"].get("annotations", {})
    assert ("serving.knative.dev/progress-deadline" in annotations) == knative
    pinned = feature != "graph" and "transformer" != feature
    assert ("kubernetes.podspec-nodeselector" in notes(values)) == (knative and pinned)
    graphs = [o for o in objs if o["kind"] == "InferenceGraph"]
    if "graph" not in feature:
        assert not graphs
        return
    (graph,) = graphs
    assert webhook_errors(graph) == []
    assert graph["metadata"].get("annotations", {}).get("serving.kserve.io/deploymentMode") == isvc_mode
    tts = graph["spec"]["nodes"]["root"]["steps"][-1]
    assert tts["serviceName"] == isvc["metadata"]["name"]
    assert service_step_path(isvc) == "/v2/models/tts/infer"


def test_serving_runtime_metrics_annotations() -> None:
    rt = one(rendered_case("servingruntime"), "ServingRuntime")
    assert rt["spec"]["annotations"] == {"prometheus.kserve.io/port": "8080", "prometheus.kserve.io/path": "/metrics"}
    assert "v2" in rt["spec"]["protocolVersions"]


@pytest.mark.parametrize("kind", ["ServingRuntime", "ClusterServingRuntime"])
def test_serving_runtime(kind: str) -> None:
    rt = one(rendered_case("servingruntime" if kind == "ServingRuntime" else "clusterservingruntime"), kind)
    formats = {f["name"]: f.get("autoSelect", False) for f in rt["spec"]["supportedModelFormats"]}
    assert formats == {"coqui-tts": True, "piper-onnx": False}
    (c,) = rt["spec"]["containers"]
    assert c["name"] == "kserve-container" and "{{.Name}}" in c["args"]
    assert env(c)["TTS_MODEL"] == "/mnt/models"


def test_everything_extras() -> None:
    objs = rendered_case("everything")
    kinds = sorted(o["kind"] for o in objs)
    assert kinds == sorted(
        [
            "InferenceService",
            "InferenceGraph",
            "ServingRuntime",
            "Secret",
            "PodDisruptionBudget",
            "NetworkPolicy",
            "ServiceMonitor",
            "Pod",
            "PersistentVolumeClaim",
        ]
    )
    isvc = one(objs, "InferenceService")
    c = main_container(isvc)
    assert c["envFrom"][0] == {"secretRef": {"name": "tts-tts-predictor-api-keys"}}
    assert c["envFrom"][1] == {"configMapRef": {"name": "tts-settings"}}
    assert env(c)["TTS_MAX_CONCURRENCY"] == "2" and env(c)["POD_IP"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    assert one(objs, "Secret")["stringData"] == {"TTS_API_KEYS": "k1,k2"}
    assert isvc["spec"]["predictor"]["imagePullSecrets"] == [{"name": "regcred"}]
    selector = {"serving.kserve.io/inferenceservice": "tts-tts-predictor", "component": "predictor"}
    assert one(objs, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"] == selector
    sm = one(objs, "ServiceMonitor")
    assert sm["apiVersion"] == "monitoring.coreos.com/v1" and sm["spec"]["selector"]["matchLabels"] == selector
    # The named port of KServe's Service (its targetPort field is deprecated in the Prometheus Operator).
    assert sm["spec"]["endpoints"] == [{"port": "http1", "path": "/metrics", "interval": "30s"}]


@pytest.mark.parametrize(
    ("case", "claim", "mount_path"),
    [
        ("cloned-voices-claim", "tts-tts-predictor-cloned-voices", "/var/lib/tts/cloned-voices"),
        ("cloned-voices-existing-claim", "team-voices", "/voices"),
    ],
)
def test_cloned_voices_persistence(case: str, claim: str, mount_path: str) -> None:
    objs = rendered_case(case)
    isvc = one(objs, "InferenceService")
    c = main_container(isvc)
    volumes = {v["name"]: v for v in isvc["spec"]["predictor"]["volumes"]}
    assert volumes["cloned-voices"] == {"name": "cloned-voices", "persistentVolumeClaim": {"claimName": claim}}
    assert {"name": "cloned-voices", "mountPath": mount_path} in c["volumeMounts"]
    assert env(c)["TTS_CLONED_VOICES_DIR"] == mount_path
    claims = [o for o in objs if o["kind"] == "PersistentVolumeClaim"]
    if case == "cloned-voices-existing-claim":
        assert claims == [] and env(c)["TTS_MAX_CLONED_VOICES"] == "100"
        return
    assert env(c)["TTS_MAX_CLONED_VOICES"] == "20"
    (pvc,) = claims
    assert pvc["metadata"]["name"] == claim
    assert pvc["spec"] == {
        "accessModes": ["ReadWriteMany"],
        "storageClassName": "efs",
        "resources": {"requests": {"storage": "5Gi"}},
    }
    # The transformer never touches the voice store.
    transformer = isvc["spec"]["transformer"]
    assert "cloned-voices" not in json.dumps(transformer)
    assert "TTS_CLONED_VOICES_DIR" not in env(main_container(isvc, "transformer"))


def test_cloned_voices_claim_options() -> None:
    values = {
        "clonedVoices": {
            "maxVoices": 0,
            "persistence": {"enabled": True, "storageClass": "-", "accessModes": ["ReadWriteOnce"]},
        },
        "autoscaling": {"maxReplicas": 1},
    }
    objs = render(values)
    pvc = one(objs, "PersistentVolumeClaim")
    assert pvc["spec"]["storageClassName"] == "" and pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert "annotations" not in pvc["metadata"]
    assert env(main_container(one(objs, "InferenceService")))["TTS_MAX_CLONED_VOICES"] == "0"
    for obj in objs:
        validate(obj)
    # The chart cannot see an existing claim's access modes, so it does not second-guess them.
    existing = {
        "clonedVoices": {"persistence": {"enabled": True, "existingClaim": "v", "accessModes": ["ReadWriteOnce"]}}
    }
    assert not [o for o in render(existing) if o["kind"] == "PersistentVolumeClaim"]


def test_existing_api_key_secret() -> None:
    objs = render({"apiKeys": {"existingSecret": "my-keys", "keys": ["ignored"]}})
    assert not [o for o in objs if o["kind"] == "Secret"]
    assert main_container(one(objs, "InferenceService"))["envFrom"] == [{"secretRef": {"name": "my-keys"}}]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"gpu": {"enabled": True}, "arch": "arm64"}, "amd64-only"),
        ({"autoscaling": {"class": "kpa", "metric": "cpu"}}, "class=kpa supports metric"),
        ({"autoscaling": {"class": "hpa", "metric": "concurrency"}}, "class=hpa supports metric"),
        ({"autoscaling": {"class": "hpa", "metric": "cpu", "minReplicas": 0}}, "scale-to-zero"),
        (
            {"autoscaling": {"class": "hpa", "metric": "cpu"}, "inferenceService": {"deploymentMode": "Serverless"}},
            "RawDeployment",
        ),
        ({"inferenceService": {"deploymentMode": "RawDeployment"}}, "needs Knative"),
        ({"inferenceService": {"deploymentMode": "Standard"}}, "needs Knative"),
        (
            {"autoscaling": {"class": "keda", "metric": "queue"}, "inferenceService": {"deploymentMode": "Knative"}},
            "needs deploymentMode Standard",
        ),
        ({"autoscaling": {"class": "keda", "metric": "queue"}}, "serverAddress"),
        ({"autoscaling": {"class": "keda", "metric": "cpu"}}, "class=keda supports metric queue"),
        ({"extraEnv": {"TTS_MAX_QUEUE": "3"}}, "admission.maxConcurrency"),
        ({"env": [{"name": "TTS_MAX_CONCURRENCY", "value": "3"}]}, "admission.maxConcurrency"),
        ({"graph": {"enabled": True, "name": "TTS_Graph"}}, "must match"),
        ({"fullnameOverride": "9tts"}, "must match"),
        ({"graph": {"enabled": True, "routerTimeouts": {"serviceClient": 200}}}, "exceeds serverWrite"),
        ({"predictor": {"containerConcurrency": "many"}}, "containerConcurrency"),
        ({"model": {"source": "storageUri"}}, "needs model.storageUri"),
        ({"predictor": {"resources": {"limits": {"cpu": None}}}}, "needs predictor.resources.limits.cpu"),
        ({"autoscaling": {"minReplicas": 5, "maxReplicas": 2}}, "must not exceed"),
        ({"ray": {"enabled": True, "gpusPerReplica": 1}}, "needs gpu.enabled"),
        ({"graph": {"enabled": True}, "grpc": {"enabled": True}}, "cannot target"),
        ({"model": {"source": "s3"}}, "source"),
        ({"model": {"source": "piper"}}, "needs model.piperVoices"),
        ({"voices": {"pull": ["../../etc/passwd"]}}, "pull"),
        ({"model": {"piperVoices": ["en_GB-alan-medium; rm -rf /"]}}, "piperVoices"),
        ({"voices": {"mirrorUrl": "file:///etc"}}, "mirrorUrl"),
        ({"arch": "x86"}, "arch"),
        ({"unknownKey": 1}, "unknownKey"),
        ({"clonedVoices": {"persistence": {"enabled": True, "accessModes": ["ReadWriteOnce"]}}}, "ReadWriteMany"),
        ({"clonedVoices": {"persistence": {"enabled": True, "mountPath": "/var/cache/tts"}}}, "taken by another"),
        ({"clonedVoices": {"persistence": {"accessModes": ["ReadOnlyMany"]}}}, "accessModes"),
        ({"clonedVoices": {"persistence": {"size": "big"}}}, "size"),
        ({"clonedVoices": {"maxVoices": -1}}, "maxVoices"),
    ],
)
def test_bad_values_fail(values: dict[str, Any], message: str) -> None:
    with pytest.raises(helm.HelmError, match=message):
        render(values)


def test_gpu_on_arm64_allowed_explicitly() -> None:
    isvc = one(render({"gpu": {"enabled": True, "allowArm64": True}, "arch": "arm64"}), "InferenceService")
    assert isvc["spec"]["predictor"]["nodeSelector"]["kubernetes.io/arch"] == "arm64"


# values.yaml <-> values.schema.json <-> README drift.


def _chart_docs() -> Any:
    spec = importlib.util.spec_from_file_location("chart_docs", ROOT / "scripts" / "chart-docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _schema_leaves(schema: dict[str, Any], prefix: str = "") -> set[str]:
    leaves = set()
    for key, sub in schema.get("properties", {}).items():
        path = f"{prefix}{key}"
        leaves |= _schema_leaves(sub, path + ".") if "properties" in sub else {path}
    return leaves


def _values_leaves(values: dict[str, Any], documented: set[str], prefix: str = "") -> set[str]:
    leaves = set()
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and path not in documented:
            leaves |= _values_leaves(value, documented, path + ".")
        else:
            leaves.add(path)
    return leaves


def test_values_schema_in_sync() -> None:
    text = (CHART / "values.yaml").read_text()
    documented = set(_chart_docs().documented_values(text))
    values_leaves = _values_leaves(yaml.safe_load(text), documented)
    schema = json.loads((CHART / "values.schema.json").read_text())
    schema_leaves = _schema_leaves(schema)
    assert values_leaves - schema_leaves == set(), "in values.yaml but not in values.schema.json"
    assert schema_leaves - values_leaves == set(), "in values.schema.json but not in values.yaml"
    assert values_leaves - documented == set(), "values without a `# --` comment"
    assert documented - values_leaves == set(), "`# --` comments on keys that are not leaves"
    _chart().validate_schema(yaml.safe_load(text))


def test_readme_values_table_up_to_date() -> None:
    docs = _chart_docs()
    readme = (CHART / "README.md").read_text()
    assert readme == docs.render_readme(readme, (CHART / "values.yaml").read_text()), "run python scripts/chart-docs.py"
