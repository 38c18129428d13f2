"""Redis job store (TTS_REDIS_URL): replicas share the queue; leases, claims and chunk writes are atomic Lua scripts."""

from __future__ import annotations

import builtins
import json
import struct
from typing import Any

import redis

from tts_predictor.jobs.records import QUEUED, RUNNING, JobRecord
from tts_predictor.jobs.store.base import StoredChunk

P = "tts:jobs:"
_HEAD = struct.Struct("<Id")
"""Chunk value: chars (uint32), audio seconds (float64), then the FLAC bytes."""

# KEYS: active zset (score: when the job is ready); ARGV: worker, now, lease_s, prefix. The queued job ready first,
# or a running one whose lease expired (a running job's score is in the past).
_CLAIM = """
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])) do
  local meta = ARGV[4] .. id .. ':meta'
  local state = redis.call('HGET', meta, 'state')
  local until_ = tonumber(redis.call('HGET', meta, 'lease_until') or '0')
  if state == 'queued' or (state == 'running' and until_ < tonumber(ARGV[2])) then
    local previous = redis.call('HGET', meta, 'lease_owner') or ''
    redis.call('HSET', meta, 'state', 'running', 'lease_owner', ARGV[1], 'lease_until', tonumber(ARGV[2]) + tonumber(ARGV[3]))
    return {id, previous}
  end
end
return nil
"""
# KEYS: meta; ARGV: worker, until. Extend the lease of a running job held by worker.
_HEARTBEAT = """
if redis.call('HGET', KEYS[1], 'lease_owner') == ARGV[1] and redis.call('HGET', KEYS[1], 'state') == 'running' then
  redis.call('HSET', KEYS[1], 'lease_until', ARGV[2]) return 1 end
return 0
"""
# KEYS: meta, doc, active, finished; ARGV: worker ('' = unconditional), state, doc, id, expires_at.
_SAVE = """
if ARGV[1] ~= '' and (redis.call('HGET', KEYS[1], 'lease_owner') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'state') ~= 'running') then
  return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[1], 'state', ARGV[2])
if ARGV[1] == '' then redis.call('HDEL', KEYS[1], 'lease_owner', 'lease_until') end
if ARGV[2] == 'completed' or ARGV[2] == 'failed' or ARGV[2] == 'cancelled' then
  redis.call('ZREM', KEYS[3], ARGV[4]) redis.call('ZADD', KEYS[4], tonumber(ARGV[5]), ARGV[4]) end
return 1
"""
# KEYS: meta, doc, active; ARGV: worker, doc, id, ready_at. Queue worker's running job again, ready at ready_at.
_DEFER = """
if redis.call('HGET', KEYS[1], 'lease_owner') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'state') ~= 'running' then
  return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[1], 'state', 'queued')
redis.call('HDEL', KEYS[1], 'lease_owner', 'lease_until')
redis.call('ZADD', KEYS[3], tonumber(ARGV[4]), ARGV[3])
return 1
"""
# KEYS: chunks, chunkinfo, bytes, meta; ARGV: index, value, info. Never overwrite a finished chunk; nothing for a job
# that is no longer running (a chunk landing after a cancel + delete would be orphaned, its bytes counted forever).
_PUT_CHUNK = """
if redis.call('HGET', KEYS[4], 'state') ~= 'running' then return 0 end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3]) redis.call('INCRBY', KEYS[3], string.len(ARGV[2])) return 1 end
return 0
"""


class RedisJobStore:
    """`JobStore` on Redis; every replica pointing at the same Redis shares jobs, leases and chunks."""

    def __init__(self, url: str):
        self.r = redis.Redis.from_url(url, socket_timeout=10)
        self._claim, self._heartbeat = self.r.register_script(_CLAIM), self.r.register_script(_HEARTBEAT)
        self._save, self._put = self.r.register_script(_SAVE), self.r.register_script(_PUT_CHUNK)
        self._defer = self.r.register_script(_DEFER)

    @staticmethod
    def _k(job_id: str, part: str) -> str:
        return f"{P}{job_id}:{part}"

    def create(self, job: JobRecord, source: str) -> None:
        pipe = self.r.pipeline()
        pipe.set(self._k(job.id, "source"), source)
        pipe.set(self._k(job.id, "doc"), json.dumps(job.to_json()))
        pipe.hset(self._k(job.id, "meta"), mapping={"state": job.state, "owner": job.owner})
        pipe.zadd(P + "active", {job.id: job.created_at})
        pipe.zadd(f"{P}owner:{job.owner}", {job.id: job.created_at})
        pipe.execute()

    def get(self, job_id: str) -> JobRecord | None:
        doc = self.r.get(self._k(job_id, "doc"))
        return JobRecord.from_json(json.loads(doc)) if doc else None

    def list(self, owner: str) -> list[JobRecord]:
        ids = [i.decode() for i in self.r.zrevrange(f"{P}owner:{owner}", 0, -1)]
        docs = self.r.mget([self._k(i, "doc") for i in ids]) if ids else []
        return [JobRecord.from_json(json.loads(d)) for d in docs if d]

    def save(self, job: JobRecord, worker: str | None = None) -> bool:
        keys = [self._k(job.id, "meta"), self._k(job.id, "doc"), P + "active", P + "finished"]
        args = [worker or "", job.state, json.dumps(job.to_json()), job.id, job.expires_at or 0]
        return bool(self._save(keys=keys, args=args))

    def claim(self, worker: str, now: float, lease_s: float) -> JobRecord | None:
        found = self._claim(keys=[P + "active"], args=[worker, now, lease_s, P])
        if not found:
            return None
        job = self.get(found[0].decode())
        if job is not None and found[1] and found[1].decode() != worker:
            job.takeovers += 1
        return job

    def defer(self, job: JobRecord, worker: str, ready_at: float) -> bool:
        keys = [self._k(job.id, "meta"), self._k(job.id, "doc"), P + "active"]
        return bool(self._defer(keys=keys, args=[worker, json.dumps(job.to_json()), job.id, ready_at]))

    def heartbeat(self, job_id: str, worker: str, now: float, lease_s: float) -> bool:
        return bool(self._heartbeat(keys=[self._k(job_id, "meta")], args=[worker, now + lease_s]))

    def release(self, job_id: str, worker: str) -> None:
        meta = self._k(job_id, "meta")
        if self.r.hget(meta, "lease_owner") == worker.encode():
            self.r.hdel(meta, "lease_owner", "lease_until")

    def source(self, job_id: str) -> str | None:
        data = self.r.get(self._k(job_id, "source"))
        return data.decode() if data else None

    def set_plan(self, job_id: str, plan: dict[str, Any]) -> bool:
        return bool(self.r.set(self._k(job_id, "plan"), json.dumps(plan), nx=True))

    def plan(self, job_id: str) -> dict[str, Any] | None:
        data = self.r.get(self._k(job_id, "plan"))
        return json.loads(data) if data else None

    def put_chunk(self, job_id: str, chunk: StoredChunk) -> bool:
        keys = [self._k(job_id, "chunks"), self._k(job_id, "chunkinfo"), P + "bytes", self._k(job_id, "meta")]
        value = _HEAD.pack(chunk.chars, chunk.audio_s) + chunk.audio
        return bool(self._put(keys=keys, args=[chunk.index, value, f"{chunk.chars},{chunk.audio_s}"]))

    def done_chunks(self, job_id: str) -> dict[int, tuple[int, float]]:
        out = {}
        for index, info in self.r.hgetall(self._k(job_id, "chunkinfo")).items():
            chars, audio_s = info.decode().split(",")
            out[int(index)] = (int(chars), float(audio_s))
        return out

    def chunk(self, job_id: str, index: int) -> StoredChunk | None:
        value = self.r.hget(self._k(job_id, "chunks"), str(index))
        if value is None:
            return None
        chars, audio_s = _HEAD.unpack_from(value)
        return StoredChunk(index, value[_HEAD.size :], chars, audio_s)

    def delete(self, job_id: str) -> None:
        chunks = self._k(job_id, "chunks")
        size = sum(self.r.hstrlen(chunks, f) for f in self.r.hkeys(chunks))
        owner = self.r.hget(self._k(job_id, "meta"), "owner")
        pipe = self.r.pipeline()
        pipe.delete(*(self._k(job_id, p) for p in ("doc", "meta", "source", "plan", "chunks", "chunkinfo")))
        pipe.zrem(P + "active", job_id)
        pipe.zrem(P + "finished", job_id)
        if owner:
            pipe.zrem(f"{P}owner:{owner.decode()}", job_id)
        pipe.decrby(P + "bytes", size)
        pipe.execute()

    def expired(self, now: float) -> builtins.list[str]:  # `list` is a method here
        return [i.decode() for i in self.r.zrangebyscore(P + "finished", "-inf", now)]

    def unfinished_count(self, owner: str) -> int:
        ids = self.r.zrange(f"{P}owner:{owner}", 0, -1)
        pipe = self.r.pipeline()
        for i in ids:
            pipe.hget(self._k(i.decode(), "meta"), "state")
        return sum(1 for s in pipe.execute() if s in (QUEUED.encode(), RUNNING.encode()))

    def bytes_used(self) -> int:
        return int(self.r.get(P + "bytes") or 0)
