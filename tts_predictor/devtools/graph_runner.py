"""Run a KServe InferenceGraph ``Sequence`` locally, hop by hop over real HTTP.

This mirrors what KServe's router does for ``routerType: Sequence`` so a graph can be tried without a
cluster: each step is POSTed ``$request`` (the client's original body) or ``$response`` (the previous
step's response body, unchanged; for the first step that is the original request too); the graph's answer
is the last step's response. A failing step with ``dependency: Hard`` (the chart's choice) stops the
sequence; with ``Soft`` its error body is passed on. Not supported: ``condition``, nested ``nodeName``
steps, other router types.

    steps = steps_from_manifests(rendered_yaml, {"http://whisper.models.svc.cluster.local/...": local_url})
    answer = run_sequence(steps, v2_request)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx
import yaml


class GraphStepFailed(RuntimeError):
    """A step with a Hard dependency answered an error (or could not be reached)."""

    def __init__(self, step: str, status: int, body: Any):
        super().__init__(f"graph step {step!r} failed with HTTP {status}: {body}")
        self.step = step
        self.status = status
        self.body = body


def run_sequence(
    steps: list[dict[str, Any]],
    request: dict[str, Any],
    *,
    timeout_s: float = 120.0,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """POST `request` through `steps` (InferenceGraph step dicts with `serviceUrl` and `data`); the last response."""
    if not steps:
        raise ValueError("a Sequence needs at least one step")
    response: Any = request
    with httpx.Client(timeout=timeout_s) as client:
        for index, step in enumerate(steps):
            name = step.get("name") or f"step-{index}"
            if step.get("condition"):
                raise NotImplementedError(f"step {name!r}: 'condition' is not supported by the local runner")
            url = step.get("serviceUrl")
            if not url:
                raise ValueError(f"step {name!r} has no serviceUrl (map serviceName to a URL first)")
            data = step.get("data", "$request")
            if data not in ("$request", "$response"):
                raise ValueError(f"step {name!r}: data must be $request or $response, got {data!r}")
            body = request if data == "$request" or index == 0 else response
            try:
                answer = client.post(url, json=body, headers=dict(headers or {}))
            except httpx.HTTPError as exc:
                if step.get("dependency", "Soft") == "Hard":
                    raise GraphStepFailed(name, 0, f"{type(exc).__name__}: {exc}") from exc
                response = {"error": str(exc)}
                continue
            try:
                response = answer.json()
            except ValueError:
                response = {"error": answer.text}
            if answer.status_code >= 400 and step.get("dependency", "Soft") == "Hard":
                raise GraphStepFailed(name, answer.status_code, response)
    return response


def graph_steps(graph: Mapping[str, Any], node: str = "root") -> list[dict[str, Any]]:
    """The steps of a Sequence node of an InferenceGraph object."""
    spec_node = graph["spec"]["nodes"][node]
    if spec_node.get("routerType") != "Sequence":
        raise ValueError(f"node {node!r} is a {spec_node.get('routerType')} router; only Sequence is supported")
    steps = [dict(step) for step in spec_node.get("steps", [])]
    for step in steps:
        if "nodeName" in step:
            raise NotImplementedError(f"step {step.get('name')!r} points at node {step['nodeName']!r}; not supported")
    return steps


def map_urls(steps: Iterable[Mapping[str, Any]], url_map: Mapping[str, str]) -> list[dict[str, Any]]:
    """Replace each step's serviceUrl by a local one; `url_map` is keyed by serviceUrl, step name or serviceName."""
    mapped = []
    for step in steps:
        step = dict(step)
        for key in (step.get("serviceUrl"), step.get("name"), step.get("serviceName")):
            if key and key in url_map:
                step["serviceUrl"] = url_map[key]
                break
        else:
            raise KeyError(f"no local URL for step {step.get('name')!r} ({step.get('serviceUrl')})")
        mapped.append(step)
    return mapped


def steps_from_manifests(
    manifests: str | Iterable[Mapping[str, Any]], url_map: Mapping[str, str], *, graph_name: str | None = None
) -> list[dict[str, Any]]:
    """Steps of the InferenceGraph in rendered manifests (YAML text or objects), with serviceUrls mapped."""
    objs = list(yaml.safe_load_all(manifests)) if isinstance(manifests, str) else list(manifests)
    graphs = [
        o for o in objs
        if o and o.get("kind") == "InferenceGraph" and (graph_name is None or o["metadata"]["name"] == graph_name)
    ]
    if len(graphs) != 1:
        raise ValueError(f"expected one InferenceGraph in the manifests, found {len(graphs)}")
    return map_urls(graph_steps(graphs[0]), url_map)
