"""Ray mode on a real two-node Ray cluster (`ray start --head` + `ray start --address`, both on this machine).

The tts-predictor driver joins it through RAY_ADDRESS, deploys autoscaled replicas (min 2, max 3, one ongoing
request per replica), and serves the whole API. Checked: replicas on both nodes (x-tts-replica names the node),
V2/OpenAI/REST/streaming/voices through Ray, scale-up under a burst and back down, and no accepted request lost
when the worker node is killed mid-load (its replicas' calls are retried on the head's).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from server_process import REPO, free_port
from v2_helpers import decode_wav, infer_body

pytest.importorskip("ray.serve", reason="ray[serve] is not installed (pip install 'ray[serve]')")

from tts_predictor.ray.replica import REPLICA_HEADER  # noqa: E402

pytestmark = pytest.mark.slow

RAY = str(Path(sys.executable).with_name("ray"))
TEXT = "Request {}: the quick brown fox jumps over the lazy dog, twice, to keep a replica busy for a while."
TRACE = REPO / "bench-results" / "ray-autoscale-trace.json"
# Ray 2.60 turns on token authentication when ~/.ray/auth_token exists; every process of this private
# cluster runs without it (a real cluster shares the token file or RAY_AUTH_TOKEN instead).
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}


@dataclass
class RayNode:
    """One `ray start --block` process in its own session (so stopping it stops its raylet and workers)."""

    args: list[str]
    log_path: Path
    proc: subprocess.Popen | None = None
    env: dict[str, str] = field(default_factory=dict)

    def start(self) -> RayNode:
        ports = [
            "--node-manager-port",
            free_port(),
            "--object-manager-port",
            free_port(),
            "--dashboard-agent-listen-port",
            free_port(),
            "--dashboard-agent-grpc-port",
            free_port(),
            "--metrics-export-port",
            free_port(),
            "--runtime-env-agent-port",
            free_port(),
        ]
        command = [
            RAY,
            "start",
            "--block",
            "--disable-usage-stats",
            "--node-ip-address",
            "127.0.0.1",
            "--object-store-memory",
            str(80 * 1024 * 1024),
            *map(str, ports),
            *self.args,
        ]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **RAY_ENV, **self.env},
            )
        return self

    def kill(self) -> None:
        """SIGKILL the whole node (raylet, workers, replicas): a lost machine, not a drained one."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)


def _wait_port(port: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise TimeoutError(f"nothing listens on {port}")


def _alive_nodes(address: str) -> list[str]:
    """Node IDs the GCS reports alive, asked from a fresh driver process.

    Ray's own processes may print to the same stdout (e.g. a "[...]" warning after ours when a node was just
    lost), so the answer is the line tagged with a marker, not the last line.
    """
    script = (
        "import ray, json; ray.init(address=%r, logging_level='ERROR'); "
        "print('ALIVE=' + json.dumps([n['NodeID'] for n in ray.nodes() if n['Alive']]), flush=True)" % address
    )
    for _attempt in range(3):  # a driver that connects while the GCS handles a lost node may fail: ask again
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env={**os.environ, **RAY_ENV}
        )
        for line in out.stdout.splitlines():
            if line.startswith("ALIVE="):
                return json.loads(line.removeprefix("ALIVE="))
        time.sleep(2)
    raise AssertionError(
        f"ray.nodes() gave no answer (exit {out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
    )


@dataclass
class Cluster:
    url: str
    head: RayNode
    worker: RayNode
    nodes: list[str]
    driver: subprocess.Popen
    log_dir: Path

    def logs(self) -> str:
        return "\n".join(
            f"== {p.name}\n{p.read_text(errors='replace')[-2500:]}" for p in sorted(self.log_dir.glob("*.log"))
        )


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    # Ray's unix sockets live under --temp-dir: keep the path short (107-byte limit).
    log_dir = Path(tempfile.mkdtemp(prefix="rc", dir="/tmp"))
    gcs = free_port()
    address = f"127.0.0.1:{gcs}"
    head = RayNode(
        [
            "--head",
            "--port",
            str(gcs),
            "--num-cpus",
            "2",
            "--include-dashboard",
            "false",
            "--ray-client-server-port",
            str(free_port()),
            "--temp-dir",
            str(log_dir / "ray"),
        ],
        log_dir / "head.log",
    ).start()
    worker = driver = None
    try:
        _wait_port(gcs)
        worker = RayNode(["--address", address, "--num-cpus", "1"], log_dir / "worker.log").start()
        deadline = time.monotonic() + 180  # a busy 2-core machine: the second raylet can take a minute
        while len(nodes := _alive_nodes(address)) < 2 and time.monotonic() < deadline:
            time.sleep(1)
        assert len(nodes) == 2, nodes
        port = free_port()
        env = {
            **os.environ,
            "RAY_ADDRESS": address,
            "TTS_MODEL": "embedded",
            "TTS_CACHE_MAX_BYTES": "0",
            "TTS_MAX_CONCURRENCY": "1",
            "TTS_RAY_MIN_REPLICAS": "2",
            "TTS_RAY_MAX_REPLICAS": "3",
            "TTS_RAY_NUM_CPUS": "0.5",
            "TTS_RAY_TARGET_ONGOING_REQUESTS": "1",
            "TTS_RAY_UPSCALE_DELAY_S": "1",
            "TTS_RAY_DOWNSCALE_DELAY_S": "5",
            **RAY_ENV,
        }
        with (log_dir / "driver.log").open("wb") as log:
            driver = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tts_predictor",
                    "serve",
                    "--http_port",
                    str(port),
                    "--grpc_port",
                    str(free_port()),
                ],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        url = f"http://127.0.0.1:{port}"
        state = Cluster(url, head, worker, nodes, driver, log_dir)
        _wait_ready(state, 240)
        yield state
    finally:
        if driver is not None:
            driver.send_signal(signal.SIGTERM)  # it deletes its Serve application from the shared cluster
            try:
                driver.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(driver.pid, signal.SIGKILL)
        for node in (worker, head):
            if node is not None:
                node.kill()


def _wait_ready(cluster: Cluster, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cluster.driver.poll() is not None:
            pytest.fail(f"driver exited with {cluster.driver.returncode}:\n{cluster.logs()}")
        try:
            if httpx.get(f"{cluster.url}/v2/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"driver not ready after {timeout_s} s:\n{cluster.logs()}")


def _infer(url: str, i: int, timeout: float = 120) -> httpx.Response:
    return httpx.post(f"{url}/v2/models/tts/infer", json=infer_body([TEXT.format(i)]), timeout=timeout)


def _replicas(cluster: Cluster) -> int | None:
    return httpx.get(f"{cluster.url}/health", timeout=10).json()["ray"]["running_replicas"]


def test_full_api_through_ray(cluster: Cluster) -> None:
    url = cluster.url
    res = _infer(url, 0)
    assert res.status_code == 200, res.text
    assert REPLICA_HEADER in res.headers
    samples, rate = decode_wav(res.json()["outputs"][0]["data"][0])
    assert rate > 0 and len(samples) > rate  # more than a second of speech
    speech = httpx.post(
        f"{url}/v1/audio/speech", json={"model": "tts", "input": "Hello.", "response_format": "wav"}, timeout=60
    )
    assert speech.status_code == 200 and speech.content[:4] == b"RIFF", speech.text
    ssml = httpx.post(f"{url}/synthesize", json={"text": '<speak>One <break time="300ms"/> two.</speak>'}, timeout=60)
    assert ssml.status_code == 200 and ssml.content[:4] == b"RIFF", ssml.text
    with httpx.stream(
        "POST",
        f"{url}/synthesize",
        json={"text": "First sentence. Second sentence.", "options": {"format": "pcm", "stream": True}},
        timeout=60,
    ) as streamed:
        assert streamed.status_code == 200
        assert sum(len(chunk) for chunk in streamed.iter_bytes()) > 10000
    voices = httpx.get(f"{url}/v2/models/tts/voices", timeout=10).json()
    assert voices["voices"] and httpx.get(f"{url}/voices", timeout=10).status_code == 200
    # (any voice name maps to a voice on the OpenAI route, as OpenAI adds names: a bad speed is the 400 here)
    bad = httpx.post(
        f"{url}/v1/audio/speech", json={"model": "tts", "input": "Hi.", "voice": "alloy", "speed": 100}, timeout=30
    )
    assert bad.status_code == 400 and "speed" in bad.text
    health = httpx.get(f"{url}/health", timeout=10).json()
    assert health["ray"]["autoscaling"] and health["ray"]["running_replicas"] >= 2


def test_replicas_on_both_nodes(cluster: Cluster) -> None:
    seen: set[str] = set()
    for _round in range(4):
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda i: _infer(cluster.url, i), range(4)))
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
        seen |= {a.headers[REPLICA_HEADER].rsplit("@", 1)[1] for a in answers}
        if len(seen) == 2:
            break
    assert seen == {node[:8] for node in cluster.nodes}, (seen, cluster.nodes)


def test_autoscaling_up_under_burst_and_back_down(cluster: Cluster) -> None:
    """Load from 6 clients until a third replica runs (target: 1 ongoing request per replica), then idle."""
    trace: list[tuple[float, int | None]] = []
    started = time.monotonic()
    stop = threading.Event()
    codes: list[int] = []

    def client(i: int) -> None:
        while not stop.is_set():
            codes.append(_infer(cluster.url, i, 240).status_code)

    def sample() -> int | None:
        trace.append((round(time.monotonic() - started, 1), _replicas(cluster)))
        return trace[-1][1]

    sample()
    with ThreadPoolExecutor(6) as pool:
        for i in range(6):
            pool.submit(client, i)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and sample() != 3:
            time.sleep(1)
        stop.set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and sample() != 2:
        time.sleep(2)
    TRACE.parent.mkdir(exist_ok=True)
    TRACE.write_text(json.dumps({"trace_s_replicas": trace}))
    print(f"\nautoscaling trace (s, running replicas): {trace}")
    assert codes and set(codes) == {200}, codes
    counts = [n for _, n in trace if n is not None]
    assert 3 in counts, trace  # scaled up to the ceiling under load
    assert counts[-1] == 2 and counts.index(3) < len(counts) - 1, trace  # and back down to the floor once idle


def test_node_lost_mid_load_loses_no_request(cluster: Cluster) -> None:
    """Kill the worker node while requests run and queue: every request is answered (retried on the head)."""
    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(_infer, cluster.url, i, 240) for i in range(12)]
        time.sleep(3)  # some in flight on each node, the rest queued
        cluster.worker.kill()
        answers = [f.result() for f in futures]
    codes = [a.status_code for a in answers]
    assert codes == [200] * len(codes), (codes, [a.text for a in answers if a.status_code != 200], cluster.logs())
    # Ray's GCS marks the killed node dead only after its health checks time out (tens of seconds): on a fast
    # machine every request may be answered before that, so wait for it before checking where the next one runs.
    head = f"127.0.0.1:{cluster.head.args[cluster.head.args.index('--port') + 1]}"
    deadline = time.monotonic() + 120
    while len(survivors := _alive_nodes(head)) > 1 and time.monotonic() < deadline:
        time.sleep(2)
    after = _infer(cluster.url, 99)
    assert after.status_code == 200, after.text
    assert len(survivors) == 1 and after.headers[REPLICA_HEADER].endswith("@" + survivors[0][:8])
