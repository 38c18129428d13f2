"""Pure parts of the gateway fixes of issue 23: rate-limit bucket eviction, /config redaction, gRPC peers."""

from __future__ import annotations

import pytest

from tts_predictor.server.rate_limits import Buckets, FailureLimiter
from tts_predictor.settings import Settings, redact_text


def test_full_bucket_table_evicts_idle_clients_never_limited_ones(monkeypatch):
    """Low finding: every bucket was cleared once 10,000 addresses were seen (a limited client got a fresh burst)."""
    monkeypatch.setattr(Buckets, "MAX", 8)
    buckets = Buckets(rate=0.001, burst=2)
    for _ in range(2):
        buckets.get("limited").take()
    assert buckets.get("limited").take() > 0
    for i in range(20):  # idle clients come and go
        buckets.get(f"idle-{i}")
    assert len(buckets) <= 8
    assert buckets.get("limited").take() > 0, "the limited client kept its (empty) bucket"


def test_full_table_of_limited_clients_shares_one_overflow_bucket(monkeypatch):
    monkeypatch.setattr(Buckets, "MAX", 4)
    buckets = Buckets(rate=0.001, burst=1)
    for i in range(4):
        buckets.get(f"limited-{i}").take()
    newcomers = [buckets.get(f"new-{i}").take() for i in range(3)]
    assert newcomers[0] == 0 and all(w > 0 for w in newcomers[1:]), "made-up addresses cannot buy fresh buckets"


def test_failure_limiter_counts_per_address_and_per_key():
    limiter = FailureLimiter(per_minute=2)
    for i in range(2):
        assert not limiter.blocked("10.0.0.1", f"guess-{i}")
        limiter.failed("10.0.0.1", f"guess-{i}")
    assert limiter.blocked("10.0.0.1", "guess-new") > 0
    assert not limiter.blocked("10.0.0.2", "guess-new")
    for i in range(2):
        limiter.failed(f"10.1.0.{i}", "revoked")
    assert limiter.blocked("10.2.0.1", "revoked") > 0


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("redis://user:pass @host:6379/0", "redis://***@host:6379/0"),
        ("redis://:pw@host:6379", "redis://***@host:6379"),
        ("collector:4318/v1/traces?api_key=s3cret&x=1", "collector:4318/v1/traces?api_key=***&x=***"),
        ("http://a:b@c/p?token=t#frag", "http://***@c/p?token=***#***"),
        ("coqui:tts_models/en/vctk/vits", "coqui:tts_models/en/vctk/vits"),
        ("/srv/models/voice.onnx", "/srv/models/voice.onnx"),
    ],
)
def test_redact_text(value, shown):
    assert redact_text(value) == shown


def test_config_redaction_goes_by_field_type():
    settings = Settings(
        api_keys="k1",
        admin_api_keys="adm",
        webhook_secret="hook",
        redis_url="redis://u:p w@h:1",
        job_max_queued_per_key=7,
    )
    out = settings.redacted()
    assert (out["api_keys"], out["admin_api_keys"], out["webhook_secret"]) == ("***", "***", "***")
    assert out["redis_url"] == "redis://***@h:1"
    assert out["job_max_queued_per_key"] == 7 and out["max_cloned_voices_per_key"] == 10
    assert out["predictor_api_key"] is None


def test_grpc_peer_address():
    from tts_predictor.server.grpc_server import peer_address

    assert peer_address("ipv4:10.1.2.3:5000") == "10.1.2.3"
    assert peer_address("ipv6:[::1]:5000") == "::1"
    assert peer_address(None) is None


def test_the_client_address_reads_every_x_forwarded_for_line():
    """Attack found in issue 23's review: a proxy that adds its own X-Forwarded-For line (HAProxy's
    `option forwardfor`) after the client's was skipped: the client's made-up first line named the address."""
    from tts_predictor.server.gateway import GatewayMiddleware

    gateway = GatewayMiddleware(app=None, settings=Settings(trusted_proxies="10.0.0.0/8"))  # type: ignore[arg-type]
    scope = {
        "client": ("10.0.0.5", 4000),
        "headers": [(b"x-forwarded-for", b"1.2.3.4"), (b"x-forwarded-for", b"203.0.113.9")],
    }
    assert gateway._client(scope) == "203.0.113.9"


def test_repository_actions_are_admin_only_however_the_slashes_are_written() -> None:
    from tts_predictor.server.request_kinds import admin_only, admin_route

    for path in (
        "/v2/repository/models/tts/load",
        "//v2//repository///models/tts/unload/",
        "/v2/repository/models/x/load/",
    ):
        assert admin_only({"path": path}), path
    for path in ("/v2/repository/models/tts/infer", "/v2/repository/index", "/v2/repository/models//load", "/" * 5000):
        assert not admin_only({"path": path}), path[:40]
    assert admin_route({"path": "//v1//admin/usage"}) and not admin_route({"path": "/v1/administrator"})
