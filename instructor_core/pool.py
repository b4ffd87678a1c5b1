"""Encoders shared by every user of one process: loaded on first use, a few kept warm, names vetted."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Collection
from pathlib import Path

from .encoder import Encoder, load_encoder, pick_device, pick_dtype
from .fast import pick_backend
from .errors import ModelLoadError
from .models import catalogue_entry, resolve_model

Key = tuple[str, str, str, str]  # (location, dtype, device, backend) of the resolved model

log = logging.getLogger(__name__)


class EncoderPool:
    """Hands out loaded :class:`Encoder` objects by model name.

    Encoders are keyed by the resolved model (location, dtype, device, backend), so two names for one model
    ("auto" and "instructor-mini", "bundled" and "bundled-base") share one copy of the weights and one
    cache. ``allowed`` (hosted mode) restricts which names may be loaded, so visitors cannot make the
    server read arbitrary paths or download arbitrary hub repositories. A failed load raises
    :class:`ModelLoadError` and leaves every loaded encoder serving. At most ``max_loaded`` stay in
    memory (3: the default model and two to compare).
    """

    def __init__(
        self,
        default: str = "auto",
        device: str = "auto",
        dtype: str = "auto",
        *,
        allowed: Collection[str] | None = None,
        max_loaded: int = 3,
        disk_cache: bool | str | Path | None = None,
        trust_remote_code: bool = False,
        backend: str = "torch",
    ) -> None:
        self.default = default
        self.backend = backend
        self.device, self.dtype = device, dtype
        self.allowed = list(allowed) if allowed is not None else None
        self.max_loaded = max(1, max_loaded)
        self.disk_cache = disk_cache
        self.trust_remote_code = trust_remote_code
        self._loaded: OrderedDict[Key, Encoder] = OrderedDict()
        self._keys: dict[str, Key] = {}  # name -> resolved key, so "auto" probes the hub once
        self._lock = threading.Lock()  # one load at a time: two would double peak memory

    def get(self, name: str | None = None) -> Encoder:
        """The encoder for ``name`` (default model when None or blank), loading it if needed."""
        name = (name or "").strip() or self.default
        if self.allowed is not None and not {name, _canonical(name)} & {*self.allowed, self.default}:
            raise ModelLoadError(
                f"Model '{name}' is not available on this server. Choose one of: {', '.join(self.choices())}."
            )
        with self._lock:
            key = self._keys.get(name)
            if key in self._loaded:
                self._loaded.move_to_end(key)
                return self._loaded[key]
            try:
                source = resolve_model(name)
                device = pick_device(self.device)
                backend = pick_backend(self.backend, device)
                key = (source.location, str(pick_dtype(self.dtype, device)), device, backend)
                encoder = self._loaded.get(key)
                if encoder is None:
                    encoder = load_encoder(source, device, self.dtype, disk_cache=self.disk_cache,
                                           trust_remote_code=self.trust_remote_code, backend=backend)
                    self._loaded[key] = encoder
            except ModelLoadError as err:
                if self.allowed is None:
                    raise
                # The loader's advice (download it, pass a folder) is for whoever runs the server, not a visitor.
                log.warning("hosted load of %s failed: %s", name, err)
                raise ModelLoadError(f"Model '{name}' cannot be loaded on this server right now. Choose one of: "
                                     f"{', '.join(n for n in self.choices() if n != name)}.") from err
            self._keys[name] = key
            self._loaded.move_to_end(key)
            while len(self._loaded) > self.max_loaded:
                self._loaded.popitem(last=False)
            return encoder

    def choices(self) -> list[str]:
        """Model names to offer in a picker: the default first, then the allow-list or what is loaded."""
        loaded = [encoder.source.choice for encoder in self._loaded.values()]
        names = [self.default, *(self.allowed if self.allowed is not None else loaded)]
        return list(dict.fromkeys(names))


def _canonical(name: str) -> str:
    """The catalogue's name for ``name`` ("bundled" -> "bundled-base"), else ``name``."""
    entry = catalogue_entry(name)
    return entry.name if entry else name
