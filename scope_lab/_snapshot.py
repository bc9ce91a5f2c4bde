"""The prompt cache's optional disk snapshot, so an app can start while Scope is down.

The file holds prompt content (no credentials) as JSON. It is replaced atomically
(write to a temporary file, then rename), so a crash mid-write leaves the previous
snapshot intact. An unreadable or foreign file is ignored with a warning: the app
then starts with an empty cache, exactly as without a snapshot.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from scope_lab._prompt import Prompt

logger = logging.getLogger("scope_lab")
_FORMAT = "scope-prompt-snapshot/1"


def load(path: Path) -> dict[tuple[str, str, int | None], Prompt]:
    """Read a snapshot; a missing file is an empty one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != _FORMAT:
            raise ValueError(f"not a Scope prompt snapshot (format {data.get('format')!r})")
        return {(e["key"][0], e["key"][1], e["key"][2]): _prompt(e["prompt"])
                for e in data["entries"]}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        logger.warning("ignoring the prompt snapshot %s: %s", path, exc)
        return {}


def save(path: Path, prompts: dict[tuple[str, str, int | None], Prompt]) -> None:
    """Write all cached prompts to ``path`` atomically (mode 0600)."""
    payload = {"format": _FORMAT,
               "entries": [{"key": list(key), "prompt": prompt.to_dict()}
                           for key, prompt in prompts.items()]}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _prompt(data: dict[str, Any]) -> Prompt:
    return Prompt(data["prompt"], data["number"], data["content"], list(data["variables"]),
                  etag=data.get("etag"))
