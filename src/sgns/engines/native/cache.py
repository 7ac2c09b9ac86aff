"""numba's on-disk cache of the engine's compiled functions, kept true to the package's sources.

numba checks a cached function against the source file it is defined in and nothing else
(numba's documentation, "Cache invalidation"), but the engine's loops (``loop``) compile in the
kernels and the random draws from the package's other files. After a change to one of those
(an edit, or an upgrade: pip leaves numba's cache files behind), the loops would load what was
compiled from the old code. So the package's cache files are dropped whenever its sources
change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

STAMP = "sgns-native-sources.sha256"


def forget_stale_compiles(folder: str | Path | None, sources: Iterable[Path]) -> bool:
    """Remove the numba cache files (``.nbi``, ``.nbc``) that ``sources`` left in ``folder``
    unless its stamp says they came from these very sources; then stamp it. Returns whether
    any were removed. Best effort: a folder that cannot be read or written is left alone, and
    numba then compiles (or loads) as it would."""
    if folder is None:
        return False
    folder, sources = Path(folder), sorted(sources)
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    stamp = folder / STAMP
    try:
        if stamp.read_text() == digest.hexdigest():
            return False
    except OSError:
        pass
    modules = {path.stem for path in sources}
    removed = False
    try:
        for entry in folder.iterdir():
            if entry.suffix in (".nbi", ".nbc") and entry.name.split(".")[0] in modules:
                entry.unlink(missing_ok=True)
                removed = True
        stamp.write_text(digest.hexdigest())
    except OSError:
        pass
    return removed
