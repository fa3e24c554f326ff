"""Uploads built to exhaust the server are refused with a message, the server's memory stays
where it was, and the next upload works: sparse workbooks, zip bombs that lie about their
sizes, and a grid that slips past the pre-scan (the worker's limits catch it)."""

import re

import pytest
from sqlmodel import func, select

from models import Ikm
from models.enums import Role
from services.imports import ImportRefused, dry_run, message
from services.imports.sandbox import run_limited
from services.permissions import Actor
from tests.hostile import sparse_workbook, wide_rows_without_references, zip_bomb

STAFF = Actor("staf", Role.staff, "35.29")
PEAK_GROWTH_MB = 150  # what this process may add to its peak while refusing a hostile file


def peak_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return int(re.search(r"VmHWM:\s+(\d+)", status.read()).group(1)) / 1024


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")  # the kernel resets this process's peak resident size


def refused(session, name: str, data: bytes) -> tuple[ImportRefused, float]:
    """The refusal of a dry run, and how far this process's peak memory rose meanwhile."""
    reset_peak()
    before = peak_rss_mb()
    with pytest.raises(ImportRefused) as exc:
        dry_run(session, actor=STAFF, filename=name, data=data)
    return exc.value, peak_rss_mb() - before


def ikm_count(session) -> int:
    return session.exec(select(func.count()).select_from(Ikm)).one()


@pytest.mark.parametrize("far", ["XFD1048576", "CV1048576", "CW2", "A21001", "Z500000"])
def test_a_cell_far_outside_the_table_is_refused_before_any_grid_is_built(session, far):
    error, growth = refused(session, "jarang.xlsx", sparse_workbook(far))
    assert error.key == "imp.too_far"
    assert (error.params["sheet"], error.params["cell"]) == ("IKM", far)
    text = message(error.key, error.params, lang="id")
    assert far in text and "Hapus isi dan format sel di luar tabel" in text
    assert growth < PEAK_GROWTH_MB
    assert ikm_count(session) == 0


def test_cells_just_inside_the_limits_are_read(session):
    report = dry_run(session, actor=STAFF, filename="pas.xlsx",
                     data=sparse_workbook("CV3"))  # column 100, row 3: a wide but fair table
    assert report.total >= 1


@pytest.mark.parametrize("declared", [1000, None], ids=["lying", "honest"])
def test_a_zip_bomb_is_bounded_by_what_is_actually_unpacked(session, declared):
    data = zip_bomb(400, declared)
    assert len(data) < 1_000_000  # 400 MB of zeros in under a megabyte
    error, growth = refused(session, "bom.xlsx", data)
    # a member that yields more than it declares is cut off and fails its checksum; one that
    # declares its size is stopped at the unpacked limit
    assert error.key == ("imp.not_xlsx" if declared else "imp.too_big_unpacked")
    assert growth < PEAK_GROWTH_MB
    assert ikm_count(session) == 0


def test_a_grid_the_pre_scan_cannot_see_is_stopped_by_the_workers_memory_limit(session):
    # 16,384 cells without references in row 1 and one cell in row 20,000: no reference is far
    # out, but a reader sizing its grid would need 327 million cells
    error, growth = refused(session, "lebar.xlsx", wide_rows_without_references())
    assert error.key == "imp.too_complex"
    assert "terlalu berat" in message(error.key, error.params, lang="id")
    assert growth < PEAK_GROWTH_MB
    # the server reads the next upload as usual
    report = dry_run(session, actor=STAFF, filename="biasa.xlsx", data=sparse_workbook("B3"))
    assert report.new == 1  # Keripik Ani (the stray "x" in B3 is a row of its own)


def hog_memory(megabytes: int) -> int:
    """Allocate and touch `megabytes` of memory (a reader bug, in miniature)."""
    block = bytearray(megabytes * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])
    return len(block)


def spin() -> None:
    """Never return (a reader stuck in a loop)."""
    while True:
        pass


def refuse_politely() -> None:
    raise ImportRefused("imp.empty")


def test_the_worker_answers_results_and_refusals():
    assert run_limited(hog_memory, 10) == 10 * 1024 * 1024
    with pytest.raises(ImportRefused) as exc:
        run_limited(refuse_politely)
    assert exc.value.key == "imp.empty"


def test_a_worker_over_its_memory_limit_becomes_a_refusal_not_a_dead_server():
    reset_peak()
    before = peak_rss_mb()
    with pytest.raises(ImportRefused) as exc:
        run_limited(hog_memory, 4096, memory_mb=256)
    assert exc.value.key == "imp.too_complex"
    assert peak_rss_mb() - before < PEAK_GROWTH_MB


def test_a_worker_out_of_cpu_time_becomes_a_refusal():
    with pytest.raises(ImportRefused) as exc:
        run_limited(spin, cpu_seconds=1, wall_seconds=30)
    assert exc.value.key == "imp.too_complex"
