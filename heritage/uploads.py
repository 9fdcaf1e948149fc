"""Files uploaded through the browser or the API, examined and stored in the request.

Uploads are written to staging in chunks (never held whole in memory) under a random name,
then examined exactly like a command-line batch; the sender's file name is kept only as
metadata and never used as a path.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

from digitization.ingest import Examiner, safe_name
from heritage.ingest import known_checker, store_examined, thresholds_for
from heritage.resources.item import Item
from heritage.settings import staging_dir
from heritage.validation import ValidationFailed

CHUNK = 1024 * 1024
MAX_FILES = 500


def uploaded_files(request: Any) -> list[Any]:
    """Return the uploaded parts named ``file`` (several allowed); 400 if there are none."""
    parts = [p for p in request.POST.getall("file") if hasattr(p, "file")]
    if not parts:
        raise ValidationFailed({"file": "choose one or more files to upload"})
    if len(parts) > MAX_FILES:
        raise ValidationFailed({"file": f"at most {MAX_FILES} files in one upload"})
    return parts


def ingest_uploads(request: Any, item: Item) -> list[dict[str, Any]]:
    """Stage, examine and store the uploaded files; return one result per file."""
    hs = request.registry.heritage
    staging = staging_dir(hs)
    staging.mkdir(parents=True, exist_ok=True)
    results = []
    user = f"user:{request.authenticated_userid}"
    jobs = request.root.jobs
    with Examiner(staging, max_pixels=hs.max_image_pixels) as examiner:
        for part in uploaded_files(request):
            filename = safe_name(part.filename)
            staged = staging / f"upload-{secrets.token_hex(8)}-{filename}"
            with open(staged, "wb") as out:
                shutil.copyfileobj(part.file, out, CHUNK)
            examined = examiner.examine(
                staged,
                thresholds_for(item),
                filename=filename,
                known=known_checker(item),
                adopt=True,
            )
            result: dict[str, Any] = {"filename": filename}
            if examined.rejection:
                result.update(outcome="rejected", reason=examined.rejection)
            elif examined.skipped:
                result.update(outcome="skipped", reason=examined.skipped)
            else:
                f = store_examined(
                    item, examined, user=user, software=examiner.software, enqueue=jobs.add
                )
                result.update(
                    outcome="stored" if f.qa.get("passed", True) else "flagged",
                    file=f.__name__,
                    sha256=f.sha256,
                    qa=[c for c in f.qa.get("checks", []) if not c["passed"]],
                )
            results.append(result)
    return results


def cleanup_staged(path: Path) -> None:
    if path.exists():
        path.unlink()
