"""Encoders shared by every user of one process: loaded on first use, a few kept warm, names vetted."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Collection
from pathlib import Path

from .encoder import Encoder, load_encoder
from .errors import ModelLoadError

log = logging.getLogger(__name__)


class EncoderPool:
    """Hands out loaded :class:`Encoder` objects by model name.

    ``allowed`` (hosted mode) restricts which names may be loaded, so visitors cannot make the server
    read arbitrary paths or download arbitrary hub repositories. A failed load raises
    :class:`ModelLoadError` and leaves every loaded encoder serving. At most ``max_loaded`` stay in memory.
    """

    def __init__(
        self,
        default: str = "auto",
        device: str = "auto",
        dtype: str = "auto",
        *,
        allowed: Collection[str] | None = None,
        max_loaded: int = 2,
        disk_cache: bool | str | Path | None = None,
    ) -> None:
        self.default = default
        self.device, self.dtype = device, dtype
        self.allowed = list(allowed) if allowed is not None else None
        self.max_loaded = max(1, max_loaded)
        self.disk_cache = disk_cache
        self._loaded: OrderedDict[str, Encoder] = OrderedDict()
        self._lock = threading.Lock()  # one load at a time: two would double peak memory

    def get(self, name: str | None = None) -> Encoder:
        """The encoder for ``name`` (default model when None or blank), loading it if needed."""
        name = (name or "").strip() or self.default
        if self.allowed is not None and name not in self.allowed and name != self.default:
            raise ModelLoadError(
                f"Model '{name}' is not available on this server. Choose one of: {', '.join(self.choices())}."
            )
        with self._lock:
            if name in self._loaded:
                self._loaded.move_to_end(name)
                return self._loaded[name]
            try:
                encoder = load_encoder(name, self.device, self.dtype, disk_cache=self.disk_cache)
            except ModelLoadError as err:
                if self.allowed is None:
                    raise
                # The loader's advice (download it, pass a folder) is for whoever runs the server, not a visitor.
                log.warning("hosted load of %s failed: %s", name, err)
                raise ModelLoadError(f"Model '{name}' cannot be loaded on this server right now. Choose one of: "
                                     f"{', '.join(n for n in self.choices() if n != name)}.") from err
            self._loaded[name] = encoder
            while len(self._loaded) > self.max_loaded:
                self._loaded.popitem(last=False)
            return encoder

    def choices(self) -> list[str]:
        """Model names to offer in a picker: the default first, then the allow-list or what is loaded."""
        names = [self.default, *(self.allowed if self.allowed is not None else self._loaded)]
        return list(dict.fromkeys(names))
