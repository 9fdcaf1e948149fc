"""``heritage audit``, run as a real process (with its own ZEO server) over stored masters.

Masters are stored the real way: by ``heritage ingest`` (real exiftool and fido) in the
end-to-end test, and as blobs committed to the FileStorage in the others. Damage is done to
the committed blob file itself, found through ``f.blob.committed()``. The database is
arranged and read back by opening its FileStorage directly, only while no ``heritage``
process (and so no ZEO server) runs on it.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support import opened_root, write_cli_ini

from digitization.samples import make_sample_page
from heritage.metadata import validate_record
from heritage.resources.collection import Collection
from heritage.resources.events import APP_AGENT
from heritage.resources.institution import Institution
from heritage.resources.item import Item

HERITAGE = str(Path(sys.executable).with_name("heritage"))
PNS_ITEM, PNS_OTHER, KALTIM_ITEM = "pns-ms-0001", "pns-ms-0002", "kaltim-ms-0001"
EXIT_OK, EXIT_FAILED = 0, 1
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ")


# -- the repository --------------------------------------------------------------------------


def add_masters(root: Any, item_id: str, staging: Path, sizes: list[int]) -> None:
    """Store files of these sizes in the item, as blobs (random bytes: the audit reads
    bytes, whatever their format)."""
    item = root.items[item_id]
    staging.mkdir(exist_ok=True)
    for size in sizes:
        n = len(item.files) + 1
        path = staging / f"{item_id}-{n}.tif"
        path.write_bytes(os.urandom(size))
        item.add_file(path, f"folio-{n}.tif")


def make_repository(tmp_path: Path) -> Path:
    """Two institutions, three items with masters: pns 3 + 2 files, kaltim 2 files."""
    with opened_root(tmp_path, commit=True) as root:
        pns = root.institutions.add(
            "pns", Institution({"en": "Sarawak State Library"}, country="MY")
        )
        kaltim = root.institutions.add("kaltim", Institution({"id": "Kaltim"}, country="ID"))
        ms = root.add_collection(pns, "pns-manuscripts", Collection({"en": "Manuscripts"}))
        naskah = root.add_collection(kaltim, "kaltim-naskah", Collection({"id": "Naskah"}))
        for coll, item_id in ((ms, PNS_ITEM), (ms, PNS_OTHER), (naskah, KALTIM_ITEM)):
            record = validate_record({"title": [{"value": item_id, "lang": "ms"}]})
            coll.add_item(Item(item_id, record, state="capture", access="public"))
        staging = tmp_path / "staging"
        add_masters(root, PNS_ITEM, staging, [300_000, 5_000_000, 70_000])
        add_masters(root, PNS_OTHER, staging, [10_000, 20_000])
        add_masters(root, KALTIM_ITEM, staging, [40_000, 50_000])
    return write_cli_ini(tmp_path)


def audit(ini: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [HERITAGE, "audit", *args, "-c", str(ini)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ini.parent,
    )


def blob_path(tmp_path: Path, item_id: str, name: str) -> Path:
    with opened_root(tmp_path) as root:
        return Path(root.items[item_id].files[name].blob.committed())


def flip_byte(path: Path, offset: int) -> None:
    """Damage a committed master in place (blob files are read-only: as bit rot would)."""
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x01]))


def fixity_events(root: Any, item_id: str) -> list[dict]:
    return [e for e in root.items[item_id].events if e["type"] == "fixity check"]


def summary_counts(stdout: str) -> dict[str, int]:
    """``7 checked, 1 failed, 0 not due, …`` → {"checked": 7, "failed": 1, "not due": 0}."""
    line = next(line for line in stdout.splitlines() if " checked, " in line)
    return {what: int(n) for n, what in re.findall(r"(\d+) (checked|failed|not due)", line)}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repository(tmp_path)


# -- a clean audit ---------------------------------------------------------------------------


def test_a_clean_audit_exits_0_and_records_a_success_event_per_file(repo, tmp_path):
    result = audit(repo, "--user", "archivist")

    assert result.returncode == EXIT_OK, result.stderr
    assert summary_counts(result.stdout) == {"checked": 7, "failed": 0, "not due": 0}
    assert re.search(r"│ pns\s+│\s+5 │", result.stdout)  # the per-institution table
    assert re.search(r"│ kaltim\s+│\s+2 │", result.stdout)
    assert "7/7 files" in result.stderr  # the progress bar's last state
    with opened_root(tmp_path) as root:
        for item_id, count in ((PNS_ITEM, 3), (PNS_OTHER, 2), (KALTIM_ITEM, 2)):
            events = fixity_events(root, item_id)
            assert len(events) == count
            files = root.items[item_id].files
            assert sorted(e["objects"] for e in events) == sorted(
                (f"{item_id}/{f.__name__}",) for f in files
            )
            for e in events:
                f = files[e["objects"][0].split("/")[1]]
                assert e["outcome"] == "success"
                assert e["detail"] == f"sha256 expected {f.sha256} found {f.sha256}"
                assert e["agents"] == (APP_AGENT, {"type": "person", "name": "archivist"})
            assert set(root.audits.last_checked(item_id)) == {f.__name__ for f in files}
        assert root.audits.failure_count() == 0
        (run,) = root.audits.recent_runs()
        assert (run.state, run.by, run.files, run.failures) == ("finished", "archivist", 7, 0)
        assert run.bytes == 300_000 + 5_000_000 + 70_000 + 10_000 + 20_000 + 40_000 + 50_000


# -- one flipped byte ------------------------------------------------------------------------


def test_a_flipped_byte_fails_the_audit_names_the_file_and_is_recorded(repo, tmp_path):
    damaged = blob_path(tmp_path, PNS_ITEM, "2")
    with opened_root(tmp_path) as root:
        expected = root.items[PNS_ITEM].files["2"].sha256
    flip_byte(damaged, 4_000_000)
    found = hashlib.sha256(damaged.read_bytes()).hexdigest()

    result = audit(repo)

    assert result.returncode == EXIT_FAILED
    line = f"{PNS_ITEM}/2 (folio-2.tif): expected {expected} found {found}"
    assert line in result.stderr.replace("\n", "")  # one line, however wide the terminal
    assert summary_counts(result.stdout) == {"checked": 7, "failed": 1, "not due": 0}
    with opened_root(tmp_path) as root:
        outcomes = {e["objects"][0]: e for e in fixity_events(root, PNS_ITEM)}
        assert outcomes[f"{PNS_ITEM}/2"]["outcome"] == "failure"
        assert outcomes[f"{PNS_ITEM}/2"]["detail"] == f"sha256 expected {expected} found {found}"
        assert {e["outcome"] for k, e in outcomes.items() if k != f"{PNS_ITEM}/2"} == {"success"}
        failures, total = root.audits.current_failures()
        assert total == 1
        assert failures[0] | {"when": "", "run": ""} == {
            "item_id": PNS_ITEM,
            "file": "2",
            "filename": "folio-2.tif",
            "institution": "pns",
            "status": "failed",
            "algorithm": "sha256",
            "expected": expected,
            "found": found,
            "expected_size": 5_000_000,
            "found_size": 5_000_000,
            "detail": f"sha256 expected {expected} found {found}",
            "when": "",
            "run": "",
        }
        assert root.audits.last_run().failures == 1

    flip_byte(damaged, 4_000_000)  # restored from a copy: the next audit clears the failure
    again = audit(repo)
    assert again.returncode == EXIT_OK, again.stderr
    with opened_root(tmp_path) as root:
        assert root.audits.current_failures() == ([], 0)
        events = [e for e in fixity_events(root, PNS_ITEM) if e["objects"] == (f"{PNS_ITEM}/2",)]
        assert [e["outcome"] for e in events] == ["failure", "success"]


def test_a_missing_master_fails_the_audit(repo, tmp_path):
    gone = blob_path(tmp_path, KALTIM_ITEM, "1")
    gone.unlink()

    result = audit(repo)

    assert result.returncode == EXIT_FAILED
    assert f"{KALTIM_ITEM}/1 (folio-1.tif): expected " in result.stderr
    assert "found missing (" in result.stderr
    with opened_root(tmp_path) as root:
        (failure,), _ = root.audits.current_failures(["kaltim"])
        assert failure["status"] == "missing" and failure["found_size"] is None
        (event,) = [
            e for e in fixity_events(root, KALTIM_ITEM) if e["objects"] == (f"{KALTIM_ITEM}/1",)
        ]
        assert event["outcome"] == "failure" and "file missing" in event["detail"]


# -- choosing what to audit ------------------------------------------------------------------


def test_since_checks_only_files_not_checked_since_then(repo, tmp_path):
    assert audit(repo).returncode == EXIT_OK
    with opened_root(tmp_path, commit=True) as root:
        first = root.audits.last_run().started
        add_masters(root, PNS_OTHER, tmp_path / "staging", [30_000])  # file 3, never checked
    flip_byte(blob_path(tmp_path, PNS_ITEM, "1"), 10)  # checked just now: not due again

    result = audit(repo, "--since", first)

    assert result.returncode == EXIT_OK, result.stderr  # the damage waits for a full audit
    assert summary_counts(result.stdout) == {"checked": 1, "failed": 0, "not due": 7}
    with opened_root(tmp_path) as root:
        assert root.audits.last_run().since == first
        assert len(fixity_events(root, PNS_OTHER)) == 3
        assert len(fixity_events(root, PNS_ITEM)) == 3

    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert audit(repo, "--since", tomorrow).returncode == EXIT_FAILED  # all due again


def test_institution_limits_the_audit(repo, tmp_path):
    flip_byte(blob_path(tmp_path, PNS_ITEM, "1"), 10)

    result = audit(repo, "--institution", "kaltim")

    assert result.returncode == EXIT_OK, result.stderr
    assert summary_counts(result.stdout) == {"checked": 2, "failed": 0, "not due": 0}
    with opened_root(tmp_path) as root:
        assert len(fixity_events(root, KALTIM_ITEM)) == 2
        assert fixity_events(root, PNS_ITEM) == []
        assert root.audits.last_run().institution == "kaltim"


def test_bad_input_exits_1_with_one_line(repo, tmp_path):
    for args, message in (
        (("--institution", "nowhere"), "heritage: error: no institution 'nowhere'"),
        (("--since", "last tuesday"), "heritage: error: --since 'last tuesday' is not a date"),
    ):
        result = audit(repo, *args)
        assert result.returncode == EXIT_FAILED
        (line,) = [  # one line, beside the ini's log lines (ZEO's)
            line for line in result.stderr.splitlines() if line and not LOG_LINE.match(line)
        ]
        assert line.startswith(message)
    with opened_root(tmp_path) as root:
        assert root.audits.last_run() is None  # nothing was started


# -- end to end: ingest, damage, audit -------------------------------------------------------


def test_ingested_masters_pass_until_one_byte_of_one_changes(tmp_path):
    ini = make_repository(tmp_path)
    scans = tmp_path / "scans"
    scans.mkdir()
    for n in (1, 2):
        make_sample_page(scans / f"page{n}.jpg", seed=7, page_no=n, width=800, height=1000)
    ingest = subprocess.run(
        [HERITAGE, "ingest", KALTIM_ITEM, str(scans), "-c", str(ini)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    with opened_root(tmp_path) as root:
        f = root.items[KALTIM_ITEM].files["4"]
        assert f.filename == "page2.jpg"
        stored, expected = Path(f.blob.committed()), f.sha256
    assert expected == hashlib.sha256((scans / "page2.jpg").read_bytes()).hexdigest()
    assert audit(ini, "--institution", "kaltim").returncode == EXIT_OK

    flip_byte(stored, stored.stat().st_size // 2)
    result = audit(ini, "--institution", "kaltim")

    assert result.returncode == EXIT_FAILED
    found = hashlib.sha256(stored.read_bytes()).hexdigest()
    assert f"{KALTIM_ITEM}/4 (page2.jpg): expected {expected} found {found}" in (
        result.stderr.replace("\n", "")
    )
    with opened_root(tmp_path) as root:
        events = [e for e in fixity_events(root, KALTIM_ITEM) if e["objects"][0].endswith("/4")]
        assert [e["outcome"] for e in events] == ["success", "failure"]
