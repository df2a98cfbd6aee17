"""Row-level bronze parsing against sources.md §2–§3: record cutting, types, check order, codes, rules, duplicates."""
from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from csqm.bronze.parse import mark_duplicates, split_records, validate
from csqm.config import FieldSpec, InterfaceSpec, RuleSpec
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

GB_PREFIX = {"0531": "3701", "0532": "3702"}
DATA_DATE = dt.date(2013, 3, 1)


def fld(name: str, type_: str, required: bool = False, codes: tuple[str, ...] | None = None,
        check: str | None = None) -> FieldSpec:
    """A field of a test interface; C fields carry their codes inline."""
    return FieldSpec(name, type_, required, name, codes, name if codes else None, check)


def iface(fields: list[FieldSpec], key: tuple[str, ...] = ("id",), freq: str = "D", encoding: str = "GBK",
          rules: tuple[RuleSpec, ...] = ()) -> InterfaceSpec:
    """A tiny interface, independent of conf/sources.yaml."""
    return InterfaceSpec("TEST_IF", "测试", freq, "test", key, encoding, tuple(fields), rules)


def files_df(spark, files: list[tuple[str, int, bytes]]) -> DataFrame:
    """Files as the ingest job hands them over: name, seq, whole bytes."""
    return spark.createDataFrame([(n, s, bytearray(b)) for n, s, b in files],
                                 "file_name string, file_seq int, content binary")


def records_of(spark, lines: list[bytes], seq: int = 1) -> DataFrame:
    """One file holding the given records (\\n-terminated), with the batch data date attached."""
    content = b"".join(x + b"\n" for x in lines)
    return (split_records(files_df(spark, [(f"F_{seq:03d}.dat", seq, content)]))
            .withColumn("_data_date", F.lit(DATA_DATE)))


# ------------------------------------------------------------------ split_records
def test_split_records(spark):
    files = files_df(spark, [
        ("empty", 1, b""),
        ("two", 2, b"a\nb"),
        ("two_nl", 3, b"a\nb\n"),
        ("crlf", 4, b"a\r\nb\r"),
        ("blank", 5, b"a\n\nb"),
        ("bytes", 6, b"\xc4\xe3\r\r\n\x80\x05\n"),
        ("only_nl", 7, b"\n"),
    ])
    expected = [
        ("two", 2, 1, b"a"), ("two", 2, 2, b"b"),
        ("two_nl", 3, 1, b"a"), ("two_nl", 3, 2, b"b"),
        ("crlf", 4, 1, b"a"), ("crlf", 4, 2, b"b\r"),
        ("blank", 5, 1, b"a"), ("blank", 5, 2, b""), ("blank", 5, 3, b"b"),
        ("bytes", 6, 1, b"\xc4\xe3\r"), ("bytes", 6, 2, b"\x80\x05"),
        ("only_nl", 7, 1, b""),
    ]
    exp = spark.createDataFrame(
        [(n, s, ln, bytearray(b), b.decode("latin-1")) for n, s, ln, b in expected],
        "file_name string, file_seq int, _line_no bigint, raw_bytes binary, rec string")
    assert_df_equality(split_records(files), exp, ignore_row_order=True, ignore_nullable=True)


# ------------------------------------------------------------------ validate (GBK)
FIELDS = [
    fld("id", "S", True),
    fld("n_val", "N"),
    fld("b_flag", "B"),
    fld("amt_fen", "F"),
    fld("d_date", "D"),
    fld("t_time", "T"),
    fld("status", "C", True, ("OPEN", "CLOSED")),
    fld("city_code", "C", True, ("0531", "0532")),
    fld("county_code", "S", check="county"),
    fld("name", "S"),
    fld("suspend_sec", "N"),
]
RULES = (RuleSpec("R1", "suspend_sec >= 0", "non-negative"), RuleSpec("R2", "d_date <= _data_date", "not future"))
BASE = {"id": b"ID1", "n_val": b"01", "b_flag": b"1", "amt_fen": b"-123", "d_date": b"20130228",
        "t_time": b"20130101235959", "status": b"OPEN", "city_code": b"0531", "county_code": b"370102",
        "name": "你好，山东".encode("gbk"), "suspend_sec": b"5"}


def rec(drop_last: bool = False, extra: bytes | None = None, **over: bytes) -> bytes:
    """The base good record with some fields replaced (bytes), optionally one field short or long."""
    vals = [over.get(f.name, BASE[f.name]) for f in FIELDS]
    if drop_last:
        vals = vals[:-1]
    if extra is not None:
        vals.append(extra)
    return b"\x05".join(vals)


CASES: list[tuple[bytes, str | None]] = [
    (rec(), None),
    # types: good and bad lexical forms
    (rec(n_val=b"1234567890123456789"), "BAD_VALUE:n_val"),
    (rec(n_val=b"-123456789012345678"), None),
    (rec(n_val=b" 1"), "BAD_VALUE:n_val"),
    (rec(b_flag=b"2"), "BAD_VALUE:b_flag"),
    (rec(b_flag=b"0"), None),
    (rec(amt_fen=b"1234567890123456"), "BAD_VALUE:amt_fen"),
    (rec(amt_fen=b"-123456789012345"), None),
    (rec(d_date=b"20130230"), "BAD_VALUE:d_date"),
    (rec(d_date=b"2013022"), "BAD_VALUE:d_date"),
    (rec(d_date=b"00000101"), "BAD_VALUE:d_date"),
    (rec(d_date=b"20120229"), None),
    (rec(t_time=b"20130101250000"), "BAD_VALUE:t_time"),
    (rec(t_time=b"2013-01-01 00:00:00"), "BAD_VALUE:t_time"),
    (rec(t_time=b"20130101240000"), "BAD_VALUE:t_time"),
    # precedence between checks and within one check
    (rec(n_val=b"x", status=b""), "NULL_VIOLATION:status"),
    (rec(id=b"", status=b""), "NULL_VIOLATION:id"),
    (rec(n_val=b"x", b_flag=b"x"), "BAD_VALUE:n_val"),
    (rec(n_val=b"x", status=b"open"), "BAD_VALUE:n_val"),
    (rec(drop_last=True, name=b"\x80"), "BAD_ENCODING"),
    (rec(drop_last=True), "FIELD_COUNT"),
    (rec(extra=b""), "FIELD_COUNT"),
    (b"", "FIELD_COUNT"),
    (rec(drop_last=True, id=b""), "FIELD_COUNT"),
    # GBK structure
    (rec(name=b"\x80"), "BAD_ENCODING"),
    (rec(name=b"ab\xff"), "BAD_ENCODING"),
    (rec(name=b"\xc4"), "BAD_ENCODING"),  # lead byte at the end of a field
    (rec(name=b"\xc4\x20"), "BAD_ENCODING"),  # lead byte followed by a non-trail byte
    (rec(suspend_sec=b"5\x85"), "BAD_ENCODING"),  # lead byte at the end of the record (U+0085 is a Java line end)
    (rec(name=b"\xa1\x40"), None),  # structurally valid pair: decodes, never an error
    # codes and counties
    (rec(status=b"open"), "BAD_CODE:status"),
    (rec(status=b"UNK"), "BAD_CODE:status"),
    (rec(city_code=b"9999"), "BAD_CODE:city_code"),
    (rec(county_code=b"370202"), "BAD_CODE:county_code"),
    (rec(county_code=b"999999"), "BAD_CODE:county_code"),
    (rec(county_code=b"3701021"), "BAD_CODE:county_code"),
    (rec(county_code=b""), None),
    (rec(city_code=b"0532", county_code=b"370202"), None),
    # rules: first failing in order; NULL passes
    (rec(suspend_sec=b"-1"), "RULE:R1"),
    (rec(suspend_sec=b""), None),
    (rec(d_date=b"20130302"), "RULE:R2"),
    (rec(d_date=b"20130302", suspend_sec=b"-1"), "RULE:R1"),
    (rec(d_date=b""), None),
]


def test_validate_gbk(spark):
    spec = iface(FIELDS, rules=RULES)
    out = validate(records_of(spark, [c for c, _ in CASES]), spec, GB_PREFIX).cache()

    exp = spark.createDataFrame([(i + 1, code) for i, (_, code) in enumerate(CASES)],
                                "_line_no bigint, reason_code string")
    assert_df_equality(out.select("_line_no", "reason_code"), exp, ignore_row_order=True, ignore_nullable=True)

    rows = {r["_line_no"]: r for r in out.select(
        "_line_no", "raw_line", "rec", "_data_date", *spec.field_names,
        F.date_format("t_time", "yyyy-MM-dd HH:mm:ss").alias("t_local"),
        F.date_format(F.col("t_time"), "yyyy-MM-dd HH:mm:ssXXX").alias("t_zoned"),
    ).collect()}
    good = rows[1]
    assert (good.id, good.n_val, good.b_flag, good.amt_fen, good.d_date) == ("ID1", 1, 1, -123, dt.date(2013, 2, 28))
    assert (good.t_local, good.t_zoned) == ("2013-01-01 23:59:59", "2013-01-01 23:59:59+08:00")
    assert (good.status, good.city_code, good.county_code, good.suspend_sec) == ("OPEN", "0531", "370102", 5)
    assert good.name == "你好，山东"
    assert good.raw_line == "\x05".join(v.decode("gbk") for v in BASE.values())
    assert good.rec == rec().decode("latin-1")
    assert rows[3].n_val == -123456789012345678 and rows[8].amt_fen == -123456789012345
    assert rows[30].name == "\ue4c6"  # JDK GBK table for A140
    assert rows[40].suspend_sec is None and rows[43].d_date is None
    assert "\ufffd" in rows[25].raw_line and rows[25].raw_line.startswith("ID1\x05")
    types = dict(out.dtypes)
    assert [types[f.name] for f in FIELDS] == ["string", "bigint", "tinyint", "bigint", "date", "timestamp",
                                               "string", "string", "string", "string", "bigint"]
    assert {"file_name", "file_seq", "_line_no", "raw_bytes", "rec", "_data_date", "raw_line"} <= set(out.columns)
    out.unpersist()


# ------------------------------------------------------------------ validate (UTF-8)
def test_validate_utf8(spark):
    spec = iface([fld("id", "S", True), fld("txt", "S")], encoding="UTF-8")
    cases = [
        ("é😀山东".encode(), None),
        (b"\xc3\x28", "BAD_ENCODING"),  # bad continuation
        (b"\xed\xa0\x80", "BAD_ENCODING"),  # surrogate
        (b"\xc0\xaf", "BAD_ENCODING"),  # overlong
        (b"\xe4\xbd", "BAD_ENCODING"),  # truncated at the end of the record
        (b"\xf4\x90\x80\x80", "BAD_ENCODING"),  # above U+10FFFF
        ("你好".encode("gbk"), "BAD_ENCODING"),
    ]
    lines = [b"K" + str(i).encode() + b"\x05" + c for i, (c, _) in enumerate(cases)]
    out = validate(records_of(spark, lines), spec, GB_PREFIX)
    got = {r["_line_no"]: r for r in out.select("_line_no", "reason_code", "txt", "raw_line").collect()}
    assert {k: r.reason_code for k, r in got.items()} == {i + 1: code for i, (_, code) in enumerate(cases)}
    assert got[1].txt == "é😀山东"
    assert got[2].raw_line == "K1\x05\ufffd("


# ------------------------------------------------------------------ mark_duplicates
def test_mark_duplicates(spark):
    fields = [fld("id", "N", True), fld("v", "S"), fld("update_time", "T", True)]
    f1 = [b"01\x05a\x0520130101100000",  # 1: id 1, tied on update_time with file 2 line 1
          b"1\x05b\x0520130101090000",  # 2: id 1, older
          b"2\x05c\x0520130102000000",  # 3: id 2, latest update although in the earlier file
          b"3\x05d\x0520130101000000",  # 4: id 3, alone
          b"3\x05e\x05bad"]  # 5: quarantined, never a duplicate
    f2 = [b"1\x05f\x0520130101100000",  # 1: id 1 winner (same update_time, greater file_seq)
          b"2\x05g\x0520130101000000",  # 2: id 2, older update
          b"4\x05h\x0520130101000000",  # 3: id 4, same update_time as line 4
          b"4\x05i\x0520130101000000"]  # 4: id 4 winner (greater line)
    recs = records_of(spark, f1, 1).unionByName(records_of(spark, f2, 2))

    def marked(freq: str) -> DataFrame:
        spec = iface(fields, freq=freq)
        good = validate(recs, spec, GB_PREFIX).where(F.col("reason_code").isNull())
        return mark_duplicates(good, spec).select(F.lit(freq).alias("freq"), "file_seq", "_line_no", "_dup")

    daily = {(1, 1): True, (1, 2): True, (1, 3): False, (1, 4): False,
             (2, 1): False, (2, 2): True, (2, 3): True, (2, 4): False}
    monthly = {**daily, (1, 3): True, (2, 2): False}  # monthly ignores update_time
    exp = spark.createDataFrame(
        [("D", s, ln, d) for (s, ln), d in daily.items()] + [("M", s, ln, d) for (s, ln), d in monthly.items()],
        "freq string, file_seq int, _line_no bigint, _dup boolean")
    assert_df_equality(marked("D").unionByName(marked("M")), exp, ignore_row_order=True, ignore_nullable=True)
