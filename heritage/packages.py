"""Packages: an item exported whole as a BagIt bag, and a bag imported whole as an item.

The way to move an item between member institutions, or to restore one after a disaster,
into another database. A bag (README, "Packages")::

    bagit.txt  bag-info.txt  manifest-sha256.txt  manifest-sha512.txt
    tagmanifest-sha256.txt  tagmanifest-sha512.txt
    data/masters/0001-folio_1r.tif …   the masters, named by file number and original name
    metadata/item.json                 our own lossless record: read back on import
    metadata/dc.xml                    Dublin Core (oai_dc)
    metadata/premis.xml                PREMIS 3: objects, events, agents, rights
    metadata/mets.xml                  METS: the above, the masters in page order, sections

The payload is the masters alone, so ``Payload-Oxum`` counts exactly them; the metadata are
tag files in a tag directory (RFC 8493 §2.2.4), covered by both tag manifests, so a changed
byte there is found as surely as in a master.

Export reads the item in one transaction and writes nothing to the database; it checks every
master against its recorded sha256 while copying it, and builds the bag in a hidden folder
beside ``dest`` that is renamed into place only once the bag validates. Import validates the
bag fully before touching anything, then re-creates the item — files as blobs, metadata,
workflow state, sections, labels and the complete event history — plus one ``accession``
event, in a single transaction: it is all there, or none of it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import transaction
from BTrees.IOBTree import IOBTree
from lxml import etree
from ZODB.POSException import POSKeyError

from digitization.bags import (
    BAGIT_VERSION,
    CHECKSUMS,
    BagInvalid,
    payload_checksums,
    validate_bag,
    write_bag,
)
from digitization.fixity import Fixity, compute_fixity
from digitization.ingest import safe_name
from digitization.mets import build_mets
from digitization.mets import to_bytes as mets_bytes
from digitization.premis import to_bytes as premis_bytes
from heritage.dublincore import DC, dublin_core
from heritage.dublincore import to_bytes as dc_bytes
from heritage.metadata import MetadataError, validate_record
from heritage.preservation import premis_files, premis_record, premis_rights
from heritage.resources.events import APP_AGENT, EVENT_TYPES, organization_agent
from heritage.resources.files import File
from heritage.resources.item import Item, validate_item_id
from heritage.resources.root import APP_ROOT

RECORD_FORMAT = "borneo-heritage-item"
RECORD_VERSION = 1
MASTERS = "data/masters"
ITEM_JSON = "metadata/item.json"
DC_XML = "metadata/dc.xml"
PREMIS_XML = "metadata/premis.xml"
METS_XML = "metadata/mets.xml"
METADATA_FILES = (ITEM_JSON, DC_XML, PREMIS_XML, METS_XML)

#: What of an item the record carries besides its id, metadata, files and events. A new
#: attribute that is the item's own data belongs here; bookkeeping derived from other things
#: (feed membership, counters' memory) does not: the target database derives its own.
ITEM_FIELDS = (
    "state",
    "access",
    "community",
    "rights",
    "viewing_direction",
    "created",
    "modified",
    "published_on",
    "nomination",
    "deferred_until",
    "indigenous",
    "consultation",
)
#: What of a file the record carries besides its blob (the derivative pyramid is rebuilt).
FILE_FIELDS = ("filename", "mimetype", "size", "sha256", "md5", "format", "techmd", "qa")
FILE_OPTIONAL = ("qa_exception",)

#: ``progress(stage, done_bytes, total_bytes)``: stages ``copy``, ``bag``, ``validate``,
#: ``store``; called as a stage starts and after each master.
Progress = Callable[[str, int, int], None]


class PackageError(Exception):
    """An export or import that cannot be done; ``str()`` says why, in one line."""


@dataclass(frozen=True)
class PackageSummary:
    item_id: str
    path: Path
    files: int
    bytes: int
    events: int
    collection: str = ""


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


def _plain(value: Any) -> Any:
    """Return ``value`` as JSON data: persistent mappings and tuples become dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def payload_name(f: Any) -> str:
    """Return where a master goes in the bag: its number (page order) and a safe name."""
    return f"{MASTERS}/{int(f.__name__):04d}-{safe_name(f.filename)}"


# -- export ------------------------------------------------------------------------------------


def item_record(item: Item, paths: Mapping[str, str]) -> dict[str, Any]:
    """Return the lossless record of ``item`` (``metadata/item.json``).

    :param paths: file name → payload path in the bag.
    """
    institution = item.institution
    collection = item.collection
    # class defaults too (so the record says what the item is), but not what it never had
    fields = {name: _plain(getattr(item, name)) for name in ITEM_FIELDS if hasattr(item, name)}
    files = []
    for f in item.files:
        entry: dict[str, Any] = {"name": f.__name__, "path": paths[f.__name__]}
        entry.update({k: _plain(getattr(f, k)) for k in FILE_FIELDS})
        entry["label"] = f.label
        for k in FILE_OPTIONAL:
            if k in f.__dict__:
                entry[k] = _plain(f.__dict__[k])
        dhash = item.files.dhash_of.get(f.__name__)
        if dhash is not None:
            entry["dhash"] = dhash
        files.append(entry)
    return {
        "format": RECORD_FORMAT,
        "version": RECORD_VERSION,
        "exported": datetime.now(UTC).isoformat(timespec="seconds"),
        "software": APP_AGENT["name"],
        "institution": {"id": institution.__name__, "name": dict(institution.name)},
        "collection": {"id": collection.__name__, "title": dict(collection.title)},
        "item": {
            "id": item.item_id,
            "metadata": _plain(item.metadata),
            "sections": _plain(item.sections),
            **fields,
        },
        "next_file": item.files.next_number,
        "files": files,
        # the tombstones of deaccessioned masters: what is known of them stays known
        "removed_files": [_plain(t) for t in item.files.removed_files()],
        "events": [_plain(e) for e in item.events],
    }


def _dublin_core(item: Item, public_url: str) -> etree._Element:
    """The item's oai_dc record; its page and manifest URLs only when the site's is known."""
    base = public_url.rstrip("/")
    element = dublin_core(
        item,
        item_url=f"{base}/items/{item.item_id}" if base else "",
        manifest_url=f"{base}/iiif/manifests/{item.item_id}" if base else "",
    )
    if not base:  # a relative URL would mean nothing outside this site
        for node in element.findall(f"{{{DC}}}identifier"):
            if not node.text:
                element.remove(node)
    return element


def metadata_files(
    item: Item, paths: Mapping[str, str], *, public_url: str = ""
) -> dict[str, bytes]:
    """Return the bag's tag files: ``metadata/`` item.json, dc.xml, premis.xml and mets.xml."""
    # the copy this record travels with: the bag's payload, not our blob storage
    files = premis_files(
        item, lambda f: {"location_type": "BagIt payload path", "location": paths[f.__name__]}
    )
    uri = f"{public_url.rstrip('/')}/items/{item.item_id}" if public_url else ""
    premis = premis_record(item, uri=uri, files=files)
    located = [
        {**d, "href": f"../{paths[d['name']]}", "label": f.label}
        for d, f in zip(files, item.files, strict=True)
    ]
    mets = build_mets(
        {
            "id": item.item_id,
            "label": {
                v["lang"]: v["value"] for v in item.metadata.get("title", ()) if v.get("lang")
            }
            or item.title(),
            "state": item.state,
            "modified": item.modified,
        },
        located,
        [dict(e) for e in item.events],
        institution=organization_agent(item.institution),
        rights=premis_rights(item),
        dc=_dublin_core(item, public_url),
        sections=[_plain(s) for s in item.sections],
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        software=APP_AGENT["name"],
    )
    try:
        record = json.dumps(item_record(item, paths), ensure_ascii=False, indent=2, sort_keys=True)
    except (TypeError, ValueError) as exc:  # a value JSON cannot carry: say so, write nothing
        raise PackageError(f"item {item.item_id} cannot be written as JSON: {exc}") from None
    return {
        ITEM_JSON: record.encode(),
        DC_XML: dc_bytes(_dublin_core(item, public_url)),
        PREMIS_XML: premis_bytes(premis),
        METS_XML: mets_bytes(mets),
    }


def _bag_info(item: Item) -> dict[str, str]:
    institution = organization_agent(item.institution)
    return {
        "Source-Organization": institution["name"],
        "Organization-Address": getattr(item.institution, "place", "") or "",
        "External-Identifier": item.item_id,
        "External-Description": item.title(("en", "ms", "id")),
        "Internal-Sender-Identifier": "/".join(
            (institution["id"], item.collection.__name__, item.item_id)
        ),
        "Bag-Group-Identifier": item.collection.__name__,
        "Bag-Software-Agent": f"{APP_AGENT['name']} with bagit.py {BAGIT_VERSION}",
        "Bag-Size": _size(sum(f.size for f in item.files)),
    }


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover - unreachable


def _check_dest(dest: Path) -> Path:
    if dest.exists() or dest.is_symlink():
        raise PackageError(f"{dest} already exists: give a new folder")
    parent = dest.absolute().parent
    if not parent.is_dir():
        raise PackageError(f"no folder {parent} to write {dest.name} in")
    return parent


def export_item(
    root: Any,
    item_id: str,
    dest: str | Path,
    *,
    public_url: str = "",
    progress: Progress | None = None,
    processes: int = 1,
) -> PackageSummary:
    """Write the item as a BagIt 1.0 bag at ``dest`` (a new folder); return what was written.

    Every master is checked against its recorded size and sha256 as it is copied: a master
    that fails is not exported (the reason says which; ``heritage audit`` records it).
    :raises PackageError: unknown item, ``dest`` exists, a master fails, or the bag does
        not validate. Nothing is left at ``dest`` then.
    """
    progress = progress or _no_progress
    item = root.items.get(item_id)
    if item is None:
        raise PackageError(f"no item {item_id!r}")
    dest = Path(dest)
    parent = _check_dest(dest)
    files = list(item.files)
    total = sum(f.size for f in files)
    work = parent / f".{dest.name}.partial-{secrets.token_hex(4)}"
    try:
        work.mkdir()
    except OSError as exc:
        raise PackageError(f"cannot write in {parent}: {exc.strerror or exc}") from None
    try:
        (work / "masters").mkdir()
        paths: dict[str, str] = {}
        done = 0
        progress("copy", 0, total)
        for f in files:
            paths[f.__name__] = payload_name(f)
            target = work / paths[f.__name__].removeprefix("data/")
            try:
                fixity = compute_fixity(f.blob.committed(), copy_to=target)
            except POSKeyError:
                raise PackageError(
                    f"file {f.__name__} ({f.filename}): its master is missing from the blob "
                    "storage; run heritage audit"
                ) from None
            except OSError as exc:
                raise PackageError(
                    f"file {f.__name__} ({f.filename}) cannot be copied into the bag: {exc}"
                ) from None
            if (fixity.size, fixity.sha256) != (f.size, f.sha256):
                raise PackageError(
                    f"file {f.__name__} ({f.filename}) fails its fixity check: expected sha256 "
                    f"{f.sha256} ({f.size} bytes), found {fixity.sha256} ({fixity.size} bytes); "
                    "run heritage audit"
                )
            done += f.size
            progress("copy", done, total)
        tags = metadata_files(item, paths, public_url=public_url)
        progress("bag", 0, total)
        write_bag(work, bag_info=_bag_info(item), tag_files=tags, processes=processes)
        progress("bag", total, total)
        progress("validate", 0, total)
        bag = validate_bag(work, required_tag_files=METADATA_FILES, processes=processes)
        written = payload_checksums(bag)
        for f in files:  # what bagit read back is what the database holds
            if written[paths[f.__name__]].get("sha256") != f.sha256:
                raise PackageError(f"{paths[f.__name__]} changed while the bag was written")
        progress("validate", total, total)
        _check_dest(dest)  # nobody made it meanwhile
        os.rename(work, dest)
    except BagInvalid as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise PackageError(str(exc)) from None
    except OSError as exc:  # a full disk, a folder we may not write in
        shutil.rmtree(work, ignore_errors=True)
        raise PackageError(f"cannot write the bag {dest}: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return PackageSummary(
        item_id, dest, len(files), total, len(item.events), item.collection.__name__
    )


# -- import ------------------------------------------------------------------------------------


def read_record(bag_path: Path) -> dict[str, Any]:
    """Return the bag's ``metadata/item.json``, checked for shape; raise PackageError."""
    try:
        record = json.loads((bag_path / ITEM_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PackageError(f"{ITEM_JSON} cannot be read: {exc}") from None
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        raise PackageError(f"{ITEM_JSON} is not a Borneo Heritage item record")
    if record.get("version") != RECORD_VERSION:
        raise PackageError(
            f"{ITEM_JSON} is version {record.get('version')!r}; this software reads version "
            f"{RECORD_VERSION}"
        )
    item = record.get("item")
    if not isinstance(item, dict):
        raise PackageError(f"{ITEM_JSON}: no item")
    for key, kind in (("files", list), ("events", list), ("collection", dict)):
        if not isinstance(record.get(key), kind):
            raise PackageError(f"{ITEM_JSON}: {key} is missing or malformed")
    return record


def _check_files(record: dict[str, Any], manifest: dict[str, dict[str, str]]) -> None:
    """Every recorded master is in the payload with the same sha256, and nothing else is."""
    seen = set()
    numbers = set()
    for n, f in enumerate(record["files"]):
        if (
            not isinstance(f, dict)
            or not all(k in f for k in ("name", "path", *FILE_FIELDS))
            or not isinstance(f["size"], int)
            or not all(isinstance(f[k], str) for k in ("name", "path", "filename", "sha256"))
        ):
            raise PackageError(f"{ITEM_JSON}: files[{n}] is malformed")
        try:
            number = int(f["name"])
        except (TypeError, ValueError):
            number = 0
        if number < 1 or str(number) != f["name"] or number in numbers:
            raise PackageError(f"{ITEM_JSON}: files[{n}] has a bad or repeated number")
        numbers.add(number)
        path = f["path"]
        if path not in manifest:
            raise PackageError(f"{path} (file {f['name']}) is not in the bag's payload")
        if manifest[path].get("sha256") != f["sha256"]:
            raise PackageError(f"{path}: the bag's manifest and {ITEM_JSON} disagree on its sha256")
        seen.add(path)
    extra = sorted(set(manifest) - seen)
    if extra:
        raise PackageError(f"{extra[0]} is in the payload but not in {ITEM_JSON}")


def _check_events(events: list[Any]) -> list[dict[str, Any]]:
    out = []
    ids = set()
    for n, e in enumerate(events):
        if not isinstance(e, dict) or not isinstance(e.get("id"), str) or e["id"] in ids:
            raise PackageError(f"{ITEM_JSON}: events[{n}] has no id, or a repeated one")
        if e.get("type") not in EVENT_TYPES:
            raise PackageError(f"{ITEM_JSON}: events[{n}] has an unknown type {e.get('type')!r}")
        ids.add(e["id"])
        event = dict(e)
        # as EventLog.record() stores them
        event["agents"] = tuple(dict(a) for a in e.get("agents") or ())
        event["objects"] = tuple(e.get("objects") or ())
        out.append(event)
    return out


def _target_collection(root: Any, record: dict[str, Any], collection_id: str | None) -> Any:
    wanted = collection_id or record["collection"].get("id")
    collection = root.collections.get(wanted) if wanted else None
    if collection is None:
        hint = "" if collection_id else "; name one of this database's with --collection"
        raise PackageError(f"no collection {wanted!r} in this database{hint}")
    return collection


def check_target(root: Any, record: dict[str, Any], collection_id: str | None = None) -> Any:
    """Return the collection to import into; raise PackageError if the item cannot go there."""
    item_id = record["item"].get("id")
    try:
        validate_item_id(item_id)
    except ValueError as exc:
        raise PackageError(f"{ITEM_JSON}: {exc}") from None
    if item_id in root.items:
        raise PackageError(f"an item {item_id!r} already exists in this database")
    tombstones = getattr(root, "tombstones", None)
    if tombstones is not None and item_id in tombstones:
        raise PackageError(f"{item_id!r} was deaccessioned here: its id is not used again")
    return _target_collection(root, record, collection_id)


def _build_item(record: dict[str, Any]) -> Item:
    """Return a new Item (not yet in the tree) with the record's metadata and fields."""
    data = record["item"]
    try:
        metadata = validate_record(data.get("metadata") or {}, require_title=False)
        item = Item(
            data["id"],
            metadata,
            access=data.get("access") or "staff",
            rights=data.get("rights") or "",
            state=data.get("state") or "nominated",
            community=data.get("community") or "",
            viewing_direction=data.get("viewing_direction") or "left-to-right",
        )
    except (MetadataError, ValueError, TypeError) as exc:
        raise PackageError(f"{ITEM_JSON}: {exc}") from None
    for name in ITEM_FIELDS:  # the constructor took and checked the first five
        if name in data and name not in (
            "state",
            "access",
            "community",
            "rights",
            "viewing_direction",
        ):
            setattr(item, name, data[name])
    try:
        item.sections = tuple(
            {"label": dict(s["label"]), "files": tuple(str(n) for n in s["files"])}
            for s in data.get("sections") or ()
        )
    except (KeyError, TypeError, ValueError):
        raise PackageError(f"{ITEM_JSON}: sections are malformed") from None
    return item


def _add_file(item: Item, entry: dict[str, Any], staged: tuple[Path, Fixity], jar: Any) -> File:
    """Add a master as file number ``entry["name"]``: numbers, and so image ids and the
    events and sections that name files, stay what they were."""
    path, fixity = staged
    f = File.from_staged(
        path, entry["filename"], jar=jar, fixity=fixity, mimetype=entry["mimetype"]
    )
    f.format.update(entry.get("format") or {})
    f.techmd.update(entry.get("techmd") or {})
    f.qa.update(entry.get("qa") or {})
    for key in FILE_OPTIONAL:
        if key in entry:
            setattr(f, key, entry[key])
    item.files.append(f, number=int(entry["name"]))
    try:
        f.label = dict(entry.get("label") or {})  # also refreshes the manifest summary
        if entry.get("dhash") is not None:
            item.files.remember_dhash(f, int(entry["dhash"]))
    except (TypeError, ValueError):
        raise PackageError(f"{ITEM_JSON}: file {entry['name']} is malformed") from None
    return f


def _store(
    root: Any,
    record: dict[str, Any],
    events: list[dict[str, Any]],
    staged: list[tuple[Path, Fixity]],
    collection_id: str | None,
    user: str,
    bag_path: Path,
) -> Item:
    """Re-create the item in ``root`` (inside the caller's transaction) and return it."""
    collection = check_target(root, record, collection_id)
    item = _build_item(record)
    for entry, path in zip(record["files"], staged, strict=True):
        _add_file(item, entry, path, root._p_jar)
    for tomb in record.get("removed_files") or ():
        number = int(tomb["file"])
        if item.files.get(str(number)) is not None:
            raise PackageError(f"{ITEM_JSON}: file {number} is both present and deaccessioned")
        if item.files.removed is None:
            item.files.removed = IOBTree()
        item.files.removed[number] = dict(tomb)
        item.files.reserve_through(number)
    item.files.reserve_through(int(record.get("next_file") or 1) - 1)
    for event in events:  # as they were: same ids (keys), same order
        item.events.restore(event)
    collection.add_item(item)
    source = record.get("institution") or {}
    item.events.record(
        "accession",
        agents=[
            {"type": "person", "name": user},
            APP_AGENT,
            organization_agent(item.institution),
        ],
        objects=(item.item_id, *(f"{item.item_id}/{e['name']}" for e in record["files"])),
        detail=(
            f"imported from bag {bag_path.name} (exported by {source.get('id', '?')} from "
            f"collection {record['collection'].get('id', '?')} on "
            f"{record.get('exported', '?')}); {len(staged)} masters, sha256 verified against "
            "the bag"
        ),
    )
    item.touch()
    for f in item.files:
        if f.is_image:
            root.jobs.add("derivatives", item_id=item.item_id, file=f.__name__)
    return item


def import_bag(
    db: Any,
    bag_path: str | Path,
    *,
    staging_dir: str | Path,
    collection_id: str | None = None,
    user: str = "operator",
    progress: Progress | None = None,
    processes: int = 1,
) -> PackageSummary:
    """Re-create the item of the bag at ``bag_path`` in ``db``; return what was imported.

    The bag is validated (bagit's full validation, the metadata present and listed in the
    tag manifests, the record agreeing with the manifests) and the target checked (the item
    id is free, the collection exists) before anything is written. The masters are copied
    into ``staging_dir`` while their sha256 is checked once more, then stored as blobs with
    the item, its events and an ``accession`` event in one transaction; derivative jobs are
    queued for the images. :raises PackageError: with the reason; the database is unchanged.
    """
    progress = progress or _no_progress
    bag_path = Path(bag_path)
    if not bag_path.is_dir():
        raise PackageError(f"no bag at {bag_path}")
    progress("validate", 0, 0)
    try:
        bag = validate_bag(bag_path, required_tag_files=METADATA_FILES, processes=processes)
    except BagInvalid as exc:
        raise PackageError(str(exc)) from None
    record = read_record(bag_path)
    manifest = payload_checksums(bag)
    _check_files(record, manifest)
    events = _check_events(record["events"])
    total = sum(int(f["size"]) for f in record["files"])
    progress("validate", total, total)

    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    # flat in staging, so that an import killed half-way leaves files that ingest's
    # clean-up of abandoned copies removes
    staging = Path(staging_dir)
    prefix = f"import-{secrets.token_hex(6)}-"
    staged: list[tuple[Path, Fixity]] = []
    try:
        with tm:  # a first look, so a doomed import copies nothing
            check_target(conn.root()[APP_ROOT], record, collection_id)
        staging.mkdir(parents=True, exist_ok=True)
        done = 0
        progress("copy", 0, total)
        for n, entry in enumerate(record["files"]):
            target = staging / f"{prefix}{n:05d}-{safe_name(entry['filename'])}"
            fixity = compute_fixity(bag_path / entry["path"], copy_to=target)
            staged.append((target, fixity))
            if fixity.sha256 != entry["sha256"] or fixity.size != entry["size"]:
                raise PackageError(f"{entry['path']} changed after the bag was validated")
            if entry["md5"] and fixity.md5 != entry["md5"]:
                raise PackageError(f"{entry['path']}: its md5 is not the one {ITEM_JSON} gives")
            done += fixity.size
            progress("copy", done, total)
        progress("store", 0, total)
        for attempt in tm.attempts():
            with attempt:
                root = conn.root()[APP_ROOT]
                try:
                    item = _store(root, record, events, staged, collection_id, user, bag_path)
                except (AttributeError, KeyError, TypeError, ValueError) as exc:
                    raise PackageError(f"{ITEM_JSON} is malformed: {exc!r}") from None
                collection = item.collection
                tm.get().note(f"heritage import-bag {bag_path.name}: {item.item_id}")
                tm.get().setUser(user)
        progress("store", total, total)
    except PackageError:
        raise
    except OSError as exc:
        raise PackageError(f"the import failed: {exc}") from None
    finally:
        tm.abort()
        conn.close()
        for path, _ in staged:  # committed: blobs have taken them over (hard links)
            path.unlink(missing_ok=True)
    return PackageSummary(
        record["item"]["id"],
        bag_path,
        len(record["files"]),
        total,
        len(events) + 1,
        collection.__name__,
    )


__all__ = [
    "CHECKSUMS",
    "METADATA_FILES",
    "PackageError",
    "PackageSummary",
    "export_item",
    "import_bag",
    "item_record",
    "metadata_files",
    "payload_name",
    "read_record",
]
