"""The instruction-conditioned encoder: one loaded sentence-transformers model, shared and cached.

How an instruction reaches the model is the model family's (:mod:`instructor_core.profiles`): a templated
family (EmbeddingGemma, Qwen3-Embedding, ...) reads ``template(instruction) + text`` and pools it with its
own configuration, exactly as ``SentenceTransformer.encode(texts, prompt=...)`` does. INSTRUCTOR (Su et
al.; InstructorEmbedding 1.0.1) reads ``instruction + text`` but leaves the instruction tokens out of the
mean pool, which sentence-transformers does once the Pooling module has ``include_prompt=False``. This
module adds what an interactive tool needs on top: mixed instructions in one call, a shared cache,
progress, fair sharing between concurrent callers and CUDA OOM recovery.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .cache import EmbeddingCache, ResultCache, default_cache_dir, embedding_key, texts_fingerprint
from .errors import InputError, ModelLoadError
from .fast import pick_backend, quantized_model_path, use_int8
from .jobs import checkpoint
from .models import ModelSource, cached_hub_snapshot, catalogue_entry, folder_fingerprint, resolve_model
from .profiles import ModelProfile, detect_profile, instructor_profile

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Instructions = str | Sequence[str | None] | None

_DTYPES = {
    "fp32": torch.float32,
    "float32": torch.float32,
    "fp16": torch.float16,
    "float16": torch.float16,
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
}


def pick_device(device: str = "auto") -> str:
    """``"auto"`` -> cuda, then mps, then cpu; an explicit device is checked so errors are readable."""
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    kind = device.split(":")[0]
    if kind == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError(f"Device '{device}' was asked for, but no CUDA GPU is available. Use 'auto' or 'cpu'.")
    if kind == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ModelLoadError(f"Device '{device}' was asked for, but Apple MPS is not available. Use 'auto' or 'cpu'.")
    if kind not in {"cuda", "mps", "cpu"}:
        raise ModelLoadError(f"Unknown device '{device}'. Use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'.")
    return device


def pick_dtype(dtype: str, device: str) -> torch.dtype:
    """``"auto"`` -> bf16 on CUDA GPUs that support it, else fp16 on CUDA; fp32 on CPU and MPS."""
    if dtype == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    try:
        return _DTYPES[dtype.lower()]
    except KeyError:
        raise ModelLoadError(f"Unknown dtype '{dtype}'. Use 'auto', 'fp32', 'fp16' or 'bf16'.") from None


class _FairLock:
    """A FIFO lock: waiting callers get the model in arrival order, so a long job that re-acquires the
    lock between batches cannot starve a short request that arrived meanwhile."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()

    def __enter__(self) -> None:
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
            self._cond.wait_for(lambda: self._queue[0] is ticket)

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._queue.popleft()
            self._cond.notify_all()


@dataclass
class Encoder:
    """A loaded embedding model. Thread-safe: one instance serves many concurrent callers."""

    model: object  # sentence_transformers.SentenceTransformer
    source: ModelSource
    device: str
    dtype: torch.dtype
    cache: EmbeddingCache
    profile: ModelProfile
    identity: str = ""
    backend: str = "torch"  # "torch", or "int8": the transformer runs quantized in ONNX Runtime (see .fast)
    _lock: _FairLock = field(default_factory=_FairLock, repr=False)
    # measured model time per unit of work (see _work), averaged over recent batches; None until measured
    _seconds_per_unit: float | None = field(default=None, repr=False)
    # recent truncation counts: tokenising 10k texts again took 6 s of a re-run whose vectors were all cached
    _truncated: ResultCache = field(default_factory=lambda: ResultCache(max_items=8), repr=False)

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def instruction_tuned(self) -> bool:
        """True when the model was trained to follow free-form instructions."""
        return self.profile.instruction_tuned

    def model_input(self, text: str, instruction: str | None = None) -> str:
        """The exact string the model reads for ``text`` under ``instruction`` (template applied)."""
        return self.profile.model_input(text, instruction)

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def max_seq_length(self) -> int:
        """Tokens the model reads per input (instruction included); longer inputs are truncated."""
        return int(self.model.max_seq_length)

    def encode(
        self,
        texts: Sequence[str],
        instruction: Instructions = None,
        batch_size: int = 32,
        normalize: bool = True,
        progress: Progress | None = None,
    ) -> np.ndarray:
        """Embed ``texts`` under ``instruction`` (None, one string, or one per text).

        Returns float32 of shape ``(len(texts), dim)`` in input order. Cached vectors are reused;
        ``progress(done, total)`` is called as texts are finished. Under a :class:`~instructor_core.jobs.Job`
        it stops between batches when the job is cancelled or out of time, and refuses at the start work
        its measured speed says cannot finish in time.
        """
        texts = _clean_texts(texts)
        instructions = _per_text_instructions(instruction, len(texts))
        if batch_size < 1:
            raise InputError("batch_size must be at least 1.")
        keys = [embedding_key(self.identity, ins, text, normalize) for ins, text in zip(instructions, texts)]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for i, vec in enumerate(self.cache.get_many(keys)):
            if vec is None:
                missing.setdefault(instructions[i], []).append(i)
            else:
                out[i] = vec
        with self._lock:  # checks every instruction before any model time is spent
            prompts = {ins: self._prompt_for(ins) for ins in missing}
        done = len(texts) - sum(len(rows) for rows in missing.values())
        if progress:
            progress(done, len(texts))
        work_left = sum(self._work(texts[i], ins) for ins, rows in missing.items() for i in rows)
        for ins, rows in missing.items():
            rows.sort(key=lambda i: -len(texts[i]))  # similar lengths share a batch: less padding
            for start in range(0, len(rows), batch_size):
                chunk = rows[start : start + batch_size]
                checkpoint("embedding the rest", self.predict_seconds(work_left))
                work = sum(self._work(texts[i], ins) for i in chunk)
                vectors = self._encode_chunk([texts[i] for i in chunk], ins, prompts[ins], batch_size, normalize, work)
                out[chunk] = vectors
                self.cache.put_many([keys[i] for i in chunk], vectors)
                done += len(chunk)
                work_left -= work
                if progress:
                    progress(done, len(texts))
        return out

    def count_truncated(self, texts: Sequence[str], instruction: str | None = None) -> int:
        """How many of ``texts`` exceed ``max_seq_length`` tokens together with ``instruction`` (remembered for
        the last few text lists, so re-running a page on the same table does not tokenise it again)."""
        texts = [str(t) for t in texts]

        def count() -> int:
            with self._lock:  # fast tokenizers refuse concurrent use
                encoded = self.model.tokenizer([self.model_input(t, instruction) for t in texts])["input_ids"]
            return sum(len(ids) > self.max_seq_length for ids in encoded)

        key = (texts_fingerprint(texts), instruction or "", self.max_seq_length)
        return int(self._truncated.get_or_compute(key, count))  # type: ignore[call-overload]

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without the model's special tokens (used to match a placebo's length)."""
        with self._lock:
            return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def estimate_seconds(self, texts: Sequence[str], instruction: Instructions = None) -> float | None:
        """Seconds :meth:`encode` should take for ``texts`` at the measured speed (texts held in the memory
        cache cost nothing); None before the first batch was measured."""
        if self._seconds_per_unit is None:
            return None
        texts = _clean_texts(texts)
        instructions = _per_text_instructions(instruction, len(texts))
        held = self.cache.held_in_memory([embedding_key(self.identity, ins, text, True)
                                          for ins, text in zip(instructions, texts)])
        work = sum(self._work(text, ins) for text, ins, h in zip(texts, instructions, held) if not h)
        return self.predict_seconds(work)

    def predict_seconds(self, work: float) -> float | None:
        """Model time ``work`` units (see :meth:`_work`) should take at the measured speed; None before
        any measurement."""
        return None if self._seconds_per_unit is None else work * self._seconds_per_unit

    def _work(self, text: str, instruction: str) -> float:
        """A text's share of model time: its characters up to what the model reads, plus a fixed cost."""
        return min(len(instruction) + len(text), 4 * self.max_seq_length) + 32

    def _encode_chunk(self, texts: list[str], instruction: str, prompt: str | None, batch_size: int,
                      normalize: bool, work: float) -> np.ndarray:
        if prompt is None:  # see _prompt_for: the instruction is pooled with the text
            texts, prompt = [self.model_input(t, instruction) for t in texts], ""
        while True:
            try:
                with self._lock, torch.inference_mode():
                    start = time.perf_counter()
                    tensor = self.model.encode(
                        texts,
                        prompt=prompt,
                        batch_size=min(batch_size, len(texts)),
                        normalize_embeddings=normalize,
                        convert_to_tensor=True,
                        show_progress_bar=False,
                    )
                    vectors = tensor.float().cpu().numpy()
                    measured = (time.perf_counter() - start) / work
                self._seconds_per_unit = (measured if self._seconds_per_unit is None
                                          else 0.7 * self._seconds_per_unit + 0.3 * measured)
                return vectors
            except torch.cuda.OutOfMemoryError:
                if batch_size == 1:
                    raise
                batch_size = max(1, batch_size // 2)
                torch.cuda.empty_cache()
                log.warning("CUDA out of memory; retrying with batch_size=%d", batch_size)

    def _prompt_for(self, instruction: str) -> str | None:
        """The ``prompt`` for sentence-transformers (the family's template applied), or None when an
        INSTRUCTOR instruction must be pooled with the text.

        InstructorEmbedding leaves nothing out of the pool when the instruction is a single token
        (its length check is ``> 1`` including EOS); we match it by prepending such instructions to
        the text instead of passing them as a prompt. Call with the lock held (uses the tokenizer).
        An instruction that leaves no room for the text is an :class:`InputError`.
        """
        prompt = self.profile.prompt(instruction)
        if not prompt:
            return ""
        ids = self.model.tokenizer(prompt)["input_ids"]
        if ids and ids[-1] in self.model.tokenizer.all_special_ids:
            ids = ids[:-1]
        if len(ids) >= self.max_seq_length - 1:
            raise InputError(
                f"The instruction is {len(ids)} tokens long, but the model reads at most {self.max_seq_length} "
                "tokens, instruction and text together. Shorten the instruction."
            )
        return prompt if self.profile.include_prompt or len(ids) > 1 else None


def _clean_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise InputError("encode() takes a list of texts; wrap a single text in a list: [text].")
    cleaned = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputError(f"Text {i + 1} is {type(text).__name__}, not a string.")
        cleaned.append(text.strip())
        if not cleaned[-1]:
            raise InputError(f"Text {i + 1} is empty. Remove empty texts before encoding.")
    return cleaned


def _per_text_instructions(instruction: Instructions, n: int) -> list[str]:
    """One instruction string per text; blank means "no instruction". Leading whitespace is dropped
    (the reference strips the joined input), trailing whitespace is kept (it can change tokens)."""
    if instruction is None or isinstance(instruction, str):
        instruction = [instruction] * n
    elif len(instruction) != n:
        raise InputError(f"Got {len(instruction)} instructions for {n} texts; give one instruction or one per text.")
    cleaned = []
    for ins in instruction:
        if ins is not None and not isinstance(ins, str):
            raise InputError(f"Instructions must be strings, got {type(ins).__name__}.")
        ins = (ins or "").lstrip()
        cleaned.append(ins if ins.strip() else "")
    return cleaned


def load_encoder(
    model: str | ModelSource = "auto",
    device: str = "auto",
    dtype: str = "auto",
    *,
    cache_size_mb: int = 256,
    disk_cache: bool | str | Path | None = None,
    trust_remote_code: bool = False,
    as_instructor: bool = False,
    backend: str = "torch",
) -> Encoder:
    """Load ``model`` ("auto", a catalogue name, hub id, folder, or a resolved source) on ``device`` in ``dtype``.

    The model keeps its own configuration (template, pooling); only the INSTRUCTOR family has the
    instruction left out of the pool. ``disk_cache``: True stores vectors under the user's cache dir, a
    path stores them there. ``trust_remote_code`` lets checkpoints that ship their own code (gte-Qwen2,
    Nomic) run it. ``as_instructor`` reads any model as an INSTRUCTOR model whatever its files say (training
    a base model into one: :mod:`instructor_core.training`). ``backend``: "torch" (exact), "int8" (CPU only:
    about 2.5x faster, vectors within ~1 % of fp32; exported once and cached, see :mod:`instructor_core.fast`)
    or "auto" (int8 on CPU when its packages are installed). Raises :class:`ModelLoadError` with an
    actionable message when the model cannot be loaded.
    """
    from sentence_transformers import SentenceTransformer

    entry = model.entry if isinstance(model, ModelSource) else catalogue_entry(model)
    if entry is not None and entry.remote_code and not trust_remote_code:
        raise _remote_code_error(entry.name)  # before any download
    source = model if isinstance(model, ModelSource) else resolve_model(model)
    device = pick_device(device)
    torch_dtype = pick_dtype(dtype, device)
    backend = pick_backend(backend, device)
    if backend == "int8" and torch_dtype != torch.float32:
        raise ModelLoadError(f"The int8 backend replaces the dtype; drop --dtype {dtype} or use --backend torch.")
    try:
        st_model = SentenceTransformer(
            source.location, device=device, trust_remote_code=trust_remote_code, local_files_only=source.offline
        )
    except Exception as err:
        raise ModelLoadError(f"Could not load model '{source.name}': {err}") from err
    folder = source.location if Path(source.location).is_dir() else cached_hub_snapshot(source.location)
    profile = instructor_profile(folder) if as_instructor else detect_profile(folder, source.hub_id, source.name)
    if profile.remote_code and not trust_remote_code:
        raise _remote_code_error(source.name)
    if not profile.include_prompt:
        st_model.set_pooling_include_prompt(False)  # INSTRUCTOR: the instruction is attended, not pooled
    if profile.family == "embeddinggemma" and torch_dtype == torch.float16:
        if dtype != "auto":  # its activations overflow in fp16 (Google's model card)
            raise ModelLoadError("EmbeddingGemma does not run in fp16 (its activations overflow); use bf16 or fp32.")
        torch_dtype = torch.float32
    if torch_dtype != torch.float32:
        st_model.to(torch_dtype)
    st_model.eval()
    fingerprint = folder_fingerprint(folder) if folder else "hub"
    if backend == "int8":
        use_int8(st_model, quantized_model_path(st_model, f"{source.location}|{fingerprint}"))
    with torch.inference_mode():  # one-off initialisation now, not in the first user's batch and speed measurement
        st_model.encode(["warm-up"], show_progress_bar=False)
    identity = f"{source.name}|{fingerprint}|{str(torch_dtype)}" + ("|int8" if backend == "int8" else "")
    disk_dir = default_cache_dir() if disk_cache is True else (disk_cache or None)
    cache = EmbeddingCache(max_bytes=cache_size_mb * 2**20, disk_dir=disk_dir)
    return Encoder(st_model, source, device, torch_dtype, cache, profile, identity, backend)


def _remote_code_error(name: str) -> ModelLoadError:
    return ModelLoadError(
        f"Model '{name}' runs code from its own repository (without it the embeddings would be wrong). "
        "Allow that only for repositories you trust: `--trust-remote-code` (app and CLI) or "
        "load_encoder(..., trust_remote_code=True)."
    )
