"""A file of an item: the master as a ZODB blob, with its checksums and technical facts."""

from __future__ import annotations

import mimetypes
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from persistent import Persistent
from persistent.mapping import PersistentMapping
from ZODB.blob import Blob

from digitization.fixity import Fixity, compute_fixity


def _remove_on_success(committed: bool, path: Path) -> None:
    if committed:
        path.unlink(missing_ok=True)


class File(Persistent):
    __name__: str | None = None
    __parent__: Any = None
    derivatives: dict | None = None  # the pyramid built from it (see digitization.derivatives)

    def __init__(self, filename: str, *, mimetype: str | None = None) -> None:
        self.filename = filename
        self.mimetype = mimetype or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        self.blob = Blob()
        self.size = 0
        self.sha256 = ""
        self.md5 = ""
        self.format = PersistentMapping()  # identification: PRONOM id, tool and version
        self.techmd = PersistentMapping()  # technical metadata from exiftool
        self.qa = PersistentMapping()  # image QA checks and measured values
        self._label: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_staged(
        cls, path: Path, filename: str, *, jar: Any = None, fixity: Fixity | None = None, **kw: Any
    ) -> File:
        """Return a File whose blob takes over a hard link to ``path``.

        With ``jar`` (the connection of the item it joins) the blob's uncommitted file goes
        to the storage's own temporary directory, so nothing is copied when ``path`` is on
        the blob directory's filesystem. ``path`` itself stays until the transaction
        commits (then it is removed), so a retried transaction can take it over again.
        ``fixity``: the checksums of ``path`` if the caller computed them as it staged the
        file (then it is not read again).
        """
        path = Path(path)
        fixity = fixity or compute_fixity(path)
        f = cls(filename, **kw)
        f.size, f.sha256, f.md5 = fixity.size, fixity.sha256, fixity.md5
        if jar is not None:
            jar.add(f)
            jar.add(f.blob)
        link = path.with_name(f"{path.name}.{secrets.token_hex(4)}.take")
        try:
            os.link(path, link)
        except OSError:  # another filesystem, or no hard links: a copy, then
            shutil.copyfile(path, link)
        f.blob.consumeFile(str(link))
        if jar is not None:
            jar.transaction_manager.get().addAfterCommitHook(_remove_on_success, (path,))
        return f

    @property
    def label(self) -> dict[str, str]:
        """The file's language map, e.g. ``{"en": "folio 3r"}`` (a copy: assign to change it).

        Kept inside the File's own record, so a manifest of 1 000 pages loads 1 000
        objects, not 2 000.
        """
        return dict(self.__dict__.get("_label", ()))

    @label.setter
    def label(self, value: dict[str, str]) -> None:
        self._label = tuple(sorted(dict(value).items()))
        files = getattr(self.__parent__, "files", None)
        if files is not None and self.__name__ is not None:
            files.refresh(self)

    def as_dict(self) -> dict[str, Any]:
        """Return what identifies and describes the master (the API and PREMIS read this)."""
        return {
            "name": self.__name__,
            "filename": self.filename,
            "mimetype": self.mimetype,
            "size": self.size,
            "sha256": self.sha256,
            "md5": self.md5,
            "format": dict(self.format),
            "techmd": dict(self.techmd),
        }

    @property
    def is_image(self) -> bool:
        return self.mimetype.startswith("image/")

    @property
    def is_audio(self) -> bool:
        return self.mimetype.startswith("audio/")
