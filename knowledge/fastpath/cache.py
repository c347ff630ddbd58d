"""The cache folder of the fast path: compiled Hyperscan databases and the pattern
analysis, kept between runs under $XDG_CACHE_HOME (else ~/.cache)/sccm-triage."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path


def cache_file(key: str, kind: str = "hyperscan", suffix: str = "db") -> Path | None:
    """Where a compiled database (or the pattern analysis) is kept between runs: compiling
    the signatures' whole patterns takes a few hundred milliseconds, loading them a few
    microseconds. Under $XDG_CACHE_HOME (else ~/.cache)/sccm-triage; None without a home."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    try:  # a relative $XDG_CACHE_HOME is to be ignored (XDG Base Directory spec)
        root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    except RuntimeError:  # no home directory to be found
        return None
    return root / "sccm-triage" / f"{kind}-{key[:32]}.{suffix}"


def keep_file(path: Path, data: bytes) -> None:
    """Writes a cache file whole or not at all (another process may be reading it); a
    cache that cannot be written (read-only home) only costs the compile next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(name, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(name)
        return
    _prune(path.parent)


# Each edit of the signatures makes new databases: the cache keeps the newest this many.
CACHED_DATABASES = 200
CACHED_ANALYSES = 10  # one per version of this module and of Python


def _prune(folder: Path) -> None:
    """Keeps the newest databases, and drops what a write that was cut off left."""
    with contextlib.suppress(OSError):
        kept = sorted(folder.glob("hyperscan-*.db"), key=lambda p: p.stat().st_mtime)
        analyses = sorted(folder.glob("analysis-*.json"), key=lambda p: p.stat().st_mtime)
        stale = [p for p in folder.glob("*.tmp") if time.time() - p.stat().st_mtime > 3600]
        for old in kept[:-CACHED_DATABASES] + analyses[:-CACHED_ANALYSES] + stale:
            old.unlink()
