"""Several calls on one Coqui model at once: per-request views of the model, and the gate that bounds the calls.

Coqui keeps some inference settings on the model object: VITS reads `self.length_scale` in `Vits.inference`
(TTS/tts/models/vits.py) and a speaker mix swaps `self.emb_g`; XTTS's `GPT.compute_embeddings` stores each
request's prompt on the shared `GPT2InferenceModel` (`store_prefix_emb` -> `cached_prefix_emb`, read by every
decoding step). Setting those on the loaded model lets two calls overwrite each other's. A request instead runs on
a *view*: a shallow copy of the modules on the path to what it changes (its own attribute dict and submodule
table) that shares every parameter and every other submodule, so a view costs a few dicts, not weights.

What still cannot overlap is torch's random generator: it is process-global and Coqui draws from it without a
generator argument (VITS: `torch.randn_like` for its noise; XTTS: `torch.multinomial` in transformers' sampling).
A seeded request therefore runs each of its steps alone (`ModelGate.turn` with a `RequestRng`), with its own
generator state swapped in, while unseeded calls share the model up to the gate's limit.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tts_predictor.engines.scheduling import Priority, current_scheduling


def module_view(module: Any, **replacements: Any) -> Any:
    """A shallow copy of torch module `module` that shares its parameters, buffers and submodules, with
    `replacements` (submodules or plain values) set in the copy only."""
    view = copy.copy(module)  # a new __dict__ holding the original's values (the same _parameters, _modules...)
    table = {k: v for k, v in replacements.items() if k in module._modules}
    if table:
        view.__dict__["_modules"] = {**module._modules, **table}  # its own table: the original keeps its modules
    view.__dict__.update({k: v for k, v in replacements.items() if k not in table})
    return view


def mixed_speaker_table(model: Any, mix: tuple[tuple[str, float], ...]) -> Any:
    """A stand-in for VITS's speaker table `emb_g` that returns the weighted mean of the mixed speakers' rows for
    every speaker id (a request's voice mix, set on its view of the model)."""
    import torch

    table, ids = model.emb_g, model.speaker_manager.name_to_id
    with torch.no_grad():
        vector = sum(weight * table.weight[ids[name]] for name, weight in mix)

    class FixedEmbedding(torch.nn.Module):
        """Returns one embedding for every speaker id."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("vector", vector.detach())

        def forward(self, sid: torch.Tensor) -> torch.Tensor:
            return self.vector.unsqueeze(0).expand(sid.shape[0], -1)  # type: ignore[operator]  # a buffer

    return FixedEmbedding()


class RequestRng:
    """The random generator state of one seeded request, swapped into torch's global generator for each step."""

    def __init__(self, seed: int, cuda: bool):
        self.seed, self.cuda = seed, cuda
        self._cpu: Any = None
        self._gpu: Any = None

    def enter(self) -> None:
        """Before a step (under the exclusive gate): the seed on the first step, the saved state after that."""
        import torch

        if self._cpu is None:
            torch.manual_seed(self.seed)  # every device's default generator
            return
        torch.set_rng_state(self._cpu)
        if self.cuda:
            torch.cuda.set_rng_state_all(self._gpu)

    def leave(self) -> None:
        """After a step: remember where this request's generator stands."""
        import torch

        self._cpu = torch.get_rng_state()
        self._gpu = torch.cuda.get_rng_state_all() if self.cuda else None


class ModelGate:
    """Up to `limit` unseeded calls on one model at once; a seeded step (or a clone) runs alone.

    On CPU each call also sizes torch's intra-op threads, as the ONNX engine sizes its sessions by load
    (engines/onnx/sessions.py): a call that starts alone gets `threads`, one that starts beside others its share
    (`threads // calls`, at least 1), and a background call (a job sentence) one thread. `torch.set_num_threads`
    is documented as process-wide; with the OpenMP backend of the PyPI wheels (`torch.__config__.parallel_info()`)
    it sets the team size of the calling thread's later parallel regions (and the default that new threads start
    with), which is why it is called in the engine thread itself, right before its work. With torch's native
    thread pool it resizes the one shared pool: the last call to start decides, which still keeps N calls from
    each asking for every core.
    """

    def __init__(self, limit: int, threads: int, cpu: bool):
        self.limit, self.threads, self.cpu = max(1, limit), max(1, threads), cpu
        self.running = 0
        """Calls holding the gate now (an exclusive one counts as one)."""
        self._exclusive = False
        self._exclusive_waiting = 0
        self._changed = threading.Condition()

    @contextmanager
    def turn(self, rng: RequestRng | None = None) -> Iterator[None]:
        """One step of a request: shared without `rng`, alone with it (its generator state swapped in)."""
        if rng is None:
            with self.shared():
                yield
            return
        with self.exclusive():
            rng.enter()
            try:
                yield
            finally:
                rng.leave()

    @contextmanager
    def shared(self) -> Iterator[None]:
        """Hold one of `limit` places (waiting while a seeded step runs or waits: it is not starved)."""
        with self._changed:
            self._changed.wait_for(
                lambda: not self._exclusive and not self._exclusive_waiting and self.running < self.limit
            )
            self.running += 1
            calls = self.running
        try:
            self._size_threads(calls)
            yield
        finally:
            self._leave(exclusive=False)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the model alone (no other call runs meanwhile)."""
        with self._changed:
            self._exclusive_waiting += 1
            try:
                self._changed.wait_for(lambda: not self._exclusive and self.running == 0)
            finally:
                self._exclusive_waiting -= 1
            self._exclusive, self.running = True, 1
        try:
            self._size_threads(1)
            yield
        finally:
            self._leave(exclusive=True)

    def _leave(self, *, exclusive: bool) -> None:
        with self._changed:
            self.running -= 1
            self._exclusive = self._exclusive and not exclusive
            self._changed.notify_all()

    def _size_threads(self, calls: int) -> None:
        if not self.cpu:
            return
        import torch

        background = current_scheduling().priority < Priority.NORMAL
        torch.set_num_threads(1 if background else max(1, self.threads // calls))
