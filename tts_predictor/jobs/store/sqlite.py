"""SQLite job store: one file in TTS_JOBS_DIR (WAL mode), for a single replica; survives restarts."""

from __future__ import annotations

import builtins
import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tts_predictor.jobs import events
from tts_predictor.jobs.records import FINISHED, QUEUED, RUNNING, JobRecord
from tts_predictor.jobs.store.base import StoredChunk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, state TEXT NOT NULL, created_at REAL NOT NULL,
  expires_at REAL, lease_owner TEXT, lease_until REAL, doc TEXT NOT NULL, ready_at REAL);
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs(owner, created_at);
CREATE TABLE IF NOT EXISTS sources (job_id TEXT PRIMARY KEY, source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS plans (job_id TEXT PRIMARY KEY, plan TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
  job_id TEXT NOT NULL, idx INTEGER NOT NULL, chars INTEGER NOT NULL, audio_s REAL NOT NULL, audio BLOB NOT NULL,
  PRIMARY KEY (job_id, idx));
CREATE TABLE IF NOT EXISTS outbox (
  pos INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, event TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS event_counts (job_id TEXT PRIMARY KEY, n INTEGER NOT NULL);
"""


class SqliteJobStore:
    """`JobStore` on one SQLite file; a lock serializes this process's connection.

    With `event_source` (job events on), every state change writes its CloudEvent into the `outbox` table in the
    same transaction (`jobs.events`)."""

    def __init__(self, directory: str, event_source: str | None = None):
        self.event_source = event_source
        Path(directory).mkdir(parents=True, exist_ok=True)
        self.path = str(Path(directory) / "jobs.sqlite3")
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = [row[1] for row in self._db.execute("PRAGMA table_info(jobs)")]
        if "ready_at" not in columns:  # a database from before retries: NULL reads as created_at
            self._db.execute("ALTER TABLE jobs ADD COLUMN ready_at REAL")
        self._lock = threading.Lock()

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def create(self, job: JobRecord, source: str) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("INSERT INTO sources VALUES (?,?)", (job.id, source))
            self._db.execute(
                "INSERT INTO jobs VALUES (?,?,?,?,?,NULL,NULL,?,?)",
                (
                    job.id,
                    job.owner,
                    job.state,
                    job.created_at,
                    job.expires_at,
                    json.dumps(job.to_json()),
                    job.created_at,
                ),
            )
            self._emit(job, None)
            self._db.execute("COMMIT")

    def get(self, job_id: str) -> JobRecord | None:
        rows = self._run("SELECT doc FROM jobs WHERE id=?", (job_id,))
        return JobRecord.from_json(json.loads(rows[0][0])) if rows else None

    def list(self, owner: str) -> list[JobRecord]:
        rows = self._run("SELECT doc FROM jobs WHERE owner=? ORDER BY created_at DESC", (owner,))
        return [JobRecord.from_json(json.loads(r[0])) for r in rows]

    def save(self, job: JobRecord, worker: str | None = None) -> bool:
        doc = json.dumps(job.to_json())
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # the state change and its event commit together
            try:
                before = self._doc_state(job.id)
                if worker is None:  # the API (cancel): unconditional, and the lease is dropped
                    cursor = self._db.execute(
                        "UPDATE jobs SET state=?, expires_at=?, doc=?, lease_owner=NULL WHERE id=?",
                        (job.state, job.expires_at, doc, job.id),
                    )
                else:  # a worker: only while it holds the lease of a running job
                    cursor = self._db.execute(
                        "UPDATE jobs SET state=?, expires_at=?, doc=? WHERE id=? AND lease_owner=? AND state=?",
                        (job.state, job.expires_at, doc, job.id, worker, RUNNING),
                    )
                if cursor.rowcount == 1:
                    self._emit(job, before)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return cursor.rowcount == 1

    def _doc_state(self, job_id: str) -> str | None:
        """The state in the stored record (a claim changes the column, not the record: the worker's save does)."""
        if self.event_source is None:
            return None
        row = self._db.execute("SELECT doc FROM jobs WHERE id=?", (job_id,)).fetchone()
        return json.loads(row[0]).get("state") if row else None

    def _emit(self, job: JobRecord, before: str | None) -> None:
        """Inside a transaction: the event of `job`'s change from `before` into the outbox (events on only)."""
        event = events.transition(before, job.state)
        if self.event_source is None or event is None:
            return
        self._db.execute("INSERT INTO event_counts VALUES (?,1) ON CONFLICT(job_id) DO UPDATE SET n=n+1", (job.id,))
        n = self._db.execute("SELECT n FROM event_counts WHERE job_id=?", (job.id,)).fetchone()[0]
        body = events.cloud_event(job, event, n, self.event_source)
        self._db.execute("INSERT INTO outbox (job_id, event, body) VALUES (?,?,?)", (job.id, event, body))

    def pending_events(self, limit: int) -> builtins.list[tuple[int, str, str]]:
        rows = self._run("SELECT pos, event, body FROM outbox ORDER BY pos LIMIT ?", (limit,))
        return [(r[0], r[1], r[2]) for r in rows]

    def mark_delivered(self, positions: Sequence[int]) -> None:
        with self._lock:
            self._db.executemany("DELETE FROM outbox WHERE pos=?", [(p,) for p in positions])

    def claim(self, worker: str, now: float, lease_s: float) -> JobRecord | None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # one claimer at a time, across processes sharing the file
            try:
                row = self._db.execute(
                    "SELECT id, lease_owner FROM jobs WHERE (state=? AND COALESCE(ready_at, created_at)<=?) "
                    "OR (state=? AND (lease_until IS NULL OR lease_until<?)) "
                    "ORDER BY COALESCE(ready_at, created_at) LIMIT 1",
                    (QUEUED, now, RUNNING, now),
                ).fetchone()
                if row is None:
                    self._db.execute("COMMIT")
                    return None
                self._db.execute(
                    "UPDATE jobs SET state=?, lease_owner=?, lease_until=? WHERE id=?",
                    (RUNNING, worker, now + lease_s, row[0]),
                )
                doc = self._db.execute("SELECT doc FROM jobs WHERE id=?", (row[0],)).fetchone()[0]
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        job = JobRecord.from_json(json.loads(doc))
        if row[1] is not None and row[1] != worker:
            job.takeovers += 1
        return job

    def defer(self, job: JobRecord, worker: str, ready_at: float) -> bool:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = self._db.execute(
                    "UPDATE jobs SET state=?, doc=?, ready_at=?, lease_owner=NULL, lease_until=NULL "
                    "WHERE id=? AND lease_owner=? AND state=?",
                    (QUEUED, json.dumps(job.to_json()), ready_at, job.id, worker, RUNNING),
                )
                if cursor.rowcount == 1:
                    self._emit(job, RUNNING)  # queued again for a retry
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return cursor.rowcount == 1

    def heartbeat(self, job_id: str, worker: str, now: float, lease_s: float) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "UPDATE jobs SET lease_until=? WHERE id=? AND lease_owner=? AND state=?",
                (now + lease_s, job_id, worker, RUNNING),
            )
            return cursor.rowcount == 1

    def release(self, job_id: str, worker: str) -> None:
        self._run("UPDATE jobs SET lease_owner=NULL, lease_until=NULL WHERE id=? AND lease_owner=?", (job_id, worker))

    def source(self, job_id: str) -> str | None:
        rows = self._run("SELECT source FROM sources WHERE job_id=?", (job_id,))
        return rows[0][0] if rows else None

    def set_plan(self, job_id: str, plan: dict[str, Any]) -> bool:
        with self._lock:
            cursor = self._db.execute("INSERT OR IGNORE INTO plans VALUES (?,?)", (job_id, json.dumps(plan)))
            return cursor.rowcount == 1

    def plan(self, job_id: str) -> dict[str, Any] | None:
        rows = self._run("SELECT plan FROM plans WHERE job_id=?", (job_id,))
        return json.loads(rows[0][0]) if rows else None

    def put_chunk(self, job_id: str, chunk: StoredChunk) -> bool:
        with self._lock:
            cursor = self._db.execute(  # only for a running job: a chunk landing after a cancel + delete is orphaned
                "INSERT OR IGNORE INTO chunks SELECT ?,?,?,?,? WHERE EXISTS (SELECT 1 FROM jobs WHERE id=? AND state=?)",
                (job_id, chunk.index, chunk.chars, chunk.audio_s, chunk.audio, job_id, RUNNING),
            )
            return cursor.rowcount == 1

    def done_chunks(self, job_id: str) -> dict[int, tuple[int, float]]:
        rows = self._run("SELECT idx, chars, audio_s FROM chunks WHERE job_id=?", (job_id,))
        return {r[0]: (r[1], r[2]) for r in rows}

    def chunk(self, job_id: str, index: int) -> StoredChunk | None:
        rows = self._run("SELECT audio, chars, audio_s FROM chunks WHERE job_id=? AND idx=?", (job_id, index))
        return StoredChunk(index, rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def delete(self, job_id: str) -> None:
        with self._lock:
            tables = (("chunks", "job_id"), ("plans", "job_id"), ("sources", "job_id"), ("event_counts", "job_id"))
            for table, column in (*tables, ("jobs", "id")):
                self._db.execute(f"DELETE FROM {table} WHERE {column}=?", (job_id,))

    def expired(self, now: float) -> builtins.list[str]:  # `list` is a method here
        marks = ",".join("?" * len(FINISHED))
        rows = self._run(f"SELECT id FROM jobs WHERE state IN ({marks}) AND expires_at<?", (*FINISHED, now))
        return [r[0] for r in rows]

    def unfinished_count(self, owner: str) -> int:
        return self._run("SELECT COUNT(*) FROM jobs WHERE owner=? AND state IN (?,?)", (owner, QUEUED, RUNNING))[0][0]

    def bytes_used(self) -> int:
        return self._run("SELECT COALESCE(SUM(LENGTH(audio)),0) FROM chunks")[0][0]
