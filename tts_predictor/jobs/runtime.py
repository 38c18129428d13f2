"""Wiring of the jobs feature in one server process: store, result files, webhooks, the worker task, routes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from tts_predictor.jobs.events import EventPublisher
from tts_predictor.jobs.results import ResultFiles
from tts_predictor.jobs.store import make_store
from tts_predictor.jobs.store.base import JobStore
from tts_predictor.jobs.webhooks import WebhookSender
from tts_predictor.pipeline.front import Front

log = logging.getLogger(__name__)


class JobRuntime:
    """The jobs feature of one process."""

    def __init__(self, predictor: Front):
        settings = predictor.settings
        self.store: JobStore = make_store(settings)
        self.results = ResultFiles(settings.jobs_dir, predictor.output)
        self.webhooks = WebhookSender(settings)
        from tts_predictor.jobs.worker import JobWorker

        self.worker = JobWorker(predictor, self.store, self.results, self.webhooks)
        self.task: asyncio.Task[None] | None = None
        self.events: EventPublisher | None = None
        self.events_task: asyncio.Task[None] | None = None
        if settings.events_nats_url:
            outbox: Any = self.store  # make_store gave the SQLite store its outbox
            prefix, stream = settings.events_subject_prefix, settings.events_nats_stream
            self.events = EventPublisher(outbox, settings.events_nats_url, prefix, stream)

    def wake(self) -> None:
        """Tell the idle worker a job was queued (other replicas find it by polling), and the event publisher."""
        self.worker.wake.set()
        if self.events is not None:
            self.events.wake.set()

    def start(self) -> None:
        """Start the worker on the running event loop."""
        self.task = asyncio.create_task(self.worker.run_forever(), name="tts-job-worker")
        log.info("job worker %s started (%s store)", self.worker.id, type(self.store).__name__)
        if self.events is not None:
            self.events_task = asyncio.create_task(self.events.run_forever(), name="tts-job-events")
            log.info("job events to %s under %s", self.events.url, self.events.prefix)

    def stop(self) -> None:
        """Stop the worker; its lease expires and another worker (or this one after a restart) resumes."""
        for task in (self.task, self.events_task):
            if task is not None:
                task.cancel()
