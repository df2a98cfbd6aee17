"""Batch-level checks of the .chk control file, in the contract's order (sources.md §1.3–§1.4, §3)."""
from __future__ import annotations

import pytest
from csqm.bronze import control

IF, D = "FLT_TICKET", "20130105"
GEN = "20130106021500"


def chk(*rows: tuple) -> bytes:
    return "".join("|".join(map(str, r)) + "\n" for r in rows).encode()


def line(seq: int, size: int = 10, count: int = 2, date: str = D, gen: str = GEN) -> tuple:
    return (f"{IF}_{date}_{seq:03d}.dat", size, count, date, gen)


def test_good_batch_proceeds_with_batch_id_of_highest_seq():
    data = chk(line(3), line(7))
    dec = control.decide(data, IF, D, {f"{IF}_{D}_003.dat": 10, f"{IF}_{D}_007.dat": 10}, None)
    assert (dec.status, dec.reason, dec.batch_id) == (None, None, f"{IF}_{D}_007")


def test_last_line_may_lack_newline():
    lines, why = control.parse_chk(chk(line(1))[:-1])
    assert why == "" and len(lines) == 1


@pytest.mark.parametrize("data, why", [
    (b"", "empty"),
    (chk(line(1)).replace(b"\n", b"\r\n"), "carriage return"),
    (chk(line(1)) + b"\n" + chk(line(2)), "blank line"),
    (chk(line(1)).replace(b"FLT", "FLT\u00e9".encode()), "non-ASCII"),
    (b"a|1|2|20130105\n", "4 fields"),
    (chk((f"{IF}_{D}_001.dat", "1x", 2, D, GEN)), "non-numeric"),
    (chk((f"{IF}_{D}_001.dat", 1, 2, D, "20130106250000")), "gen_time"),
])
def test_chk_malformed(data, why):
    dec = control.decide(data, IF, D, {}, None)
    assert (dec.status, dec.reason) == ("REJECTED", "CHK_MALFORMED") and why in dec.detail


@pytest.mark.parametrize("rows", [
    [(f"{IF}_{D}_1.dat", 10, 2, D, GEN)],                        # seq not 3 digits
    [(f"{IF}_20130106_001.dat", 10, 2, "20130106", GEN)],         # another folder's file
    [(f"{IF}_{D}_000.dat", 10, 2, D, GEN)],                       # seq 000
    [line(1, date=D)[:3] + ("20130106", GEN)],                    # data_date differs
    [line(1), line(1)],                                          # listed twice
])
def test_name_mismatch(rows):
    dec = control.decide(chk(*rows), IF, D, {}, None)
    assert (dec.status, dec.reason, dec.batch_id) == ("REJECTED", "NAME_MISMATCH", None)


def test_file_missing_before_size():
    dec = control.decide(chk(line(1, size=99), line(2)), IF, D, {f"{IF}_{D}_001.dat": 10}, None)
    assert (dec.reason, dec.batch_id) == ("FILE_MISSING", f"{IF}_{D}_002")


def test_size_mismatch():
    dec = control.decide(chk(line(1, size=11)), IF, D, {f"{IF}_{D}_001.dat": 10}, None)
    assert dec.reason == "SIZE_MISMATCH" and "11" in dec.detail


LOADED = control.LoadedBatch(f"{IF}_{D}_002", 2, ((f"{IF}_{D}_001.dat", 10, 2), (f"{IF}_{D}_002.dat", 10, 2)))
PRESENT = {f"{IF}_{D}_{s:03d}.dat": 10 for s in (1, 2, 3)}


def test_same_files_with_other_gen_time_is_skipped():
    dec = control.decide(chk(line(1, gen="20130107010101"), line(2)), IF, D, PRESENT, LOADED)
    assert (dec.status, dec.reason, dec.batch_id) == ("SKIPPED", None, f"{IF}_{D}_002")


def test_stale_chk_when_lowest_seq_not_above_loaded_seq():
    dec = control.decide(chk(line(2), line(3)), IF, D, PRESENT, LOADED)
    assert (dec.status, dec.reason, dec.batch_id) == ("REJECTED", "STALE_CHK", f"{IF}_{D}_003")


def test_redelivery_with_higher_seq_proceeds():
    dec = control.decide(chk(line(3)), IF, D, PRESENT, LOADED)
    assert (dec.status, dec.batch_id) == (None, f"{IF}_{D}_003")


@pytest.mark.parametrize("name, freq, ok", [
    ("20130105", "D", True), ("20130230", "D", False), ("201301", "M", True), ("201313", "M", False),
    ("201301", "D", False), ("tmp", "D", False),
])
def test_folder_dates(name, freq, ok):
    assert control.is_folder_date(name, freq) is ok
