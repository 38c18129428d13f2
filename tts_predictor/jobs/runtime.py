"""Wiring of the jobs feature in one server process: store, result files, webhooks, the worker task, routes."""

from __future__ import annotations

import asyncio
import logging

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

    def wake(self) -> None:
        """Tell the idle worker a job was queued (other replicas find it by polling)."""
        self.worker.wake.set()

    def start(self) -> None:
        """Start the worker on the running event loop."""
        self.task = asyncio.create_task(self.worker.run_forever(), name="tts-job-worker")
        log.info("job worker %s started (%s store)", self.worker.id, type(self.store).__name__)

    def stop(self) -> None:
        """Stop the worker; its lease expires and another worker (or this one after a restart) resumes."""
        if self.task is not None:
            self.task.cancel()
