"""Row-level bronze parsing (sources.md §2–§3): pure, Spark-native DataFrame -> DataFrame steps, no UDFs.

Bytes are carried as ISO-8859-1 strings (one char per byte, lossless), so record and field splitting and the encoding
checks work on bytes with built-in string functions; values are decoded in the interface encoding only afterwards.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from csqm.config import FieldSpec, InterfaceSpec

LATIN1 = "ISO-8859-1"
SEP = "\x05"  # one literal char: not a regex metachar, so Java's String.split takes its fast path

# Whole-record encoding checks over latin-1 chars. Possessive `*+` keeps Java's regex engine from recursing per
# repetition (a plain `*` over an alternation overflows the stack on long records); `\z`, not `$`, because `$` also
# matches before a final line terminator and U+0085 (byte 0x85) and U+000D are line terminators to Java.
GBK_OK = r"\A(?:[\x00-\x7F]|[\x81-\xFE][\x40-\x7E\x80-\xFE])*+\z"
UTF8_OK = (r"\A(?:[\x00-\x7F]|[\xC2-\xDF][\x80-\xBF]|\xE0[\xA0-\xBF][\x80-\xBF]|[\xE1-\xEC\xEE\xEF][\x80-\xBF]{2}"
           r"|\xED[\x80-\x9F][\x80-\xBF]|\xF0[\x90-\xBF][\x80-\xBF]{2}|[\xF1-\xF3][\x80-\xBF]{3}"
           r"|\xF4[\x80-\x8F][\x80-\xBF]{2})*+\z")
ENCODING_OK = {"GBK": GBK_OK, "UTF-8": UTF8_OK}

# Lexical forms (sources.md §2). D/T also need a real calendar value; year 0000 is not a Gregorian year.
LEXICAL = {
    "N": r"\A-?[0-9]{1,18}\z",
    "B": r"\A[01]\z",
    "F": r"\A-?[0-9]{1,15}\z",
    "D": r"\A(?!0000)[0-9]{8}\z",
    "T": r"\A(?!0000)[0-9]{14}\z",
}
DATE_FMT = "yyyyMMdd"
TS_FMT = "yyyyMMddHHmmss"
CITY_FIELD = "city_code"


def split_records(files: DataFrame) -> DataFrame:
    """Cut whole-file bytes into records by the §2 rules, keeping exact bytes for quarantine and line numbers
    for audit."""
    # Split once and take the size before exploding: an expression over the array written next to the generator
    # would be re-evaluated (whole file) for every record, and a carried array would be copied into every row.
    # posexplode_outer: for a plain posexplode the optimizer infers a size(split(...)) > 0 filter below the split,
    # decoding and splitting every file twice more (split never returns an empty array, so the rows are the same).
    parts = files.select("file_name", "file_seq", F.split(F.decode(F.col("content"), LATIN1), "\n", -1).alias("_parts"))
    parts = parts.select("file_name", "file_seq", F.size("_parts").alias("_n"), "_parts")
    exploded = parts.select("file_name", "file_seq", "_n", F.posexplode_outer("_parts").alias("_pos", "_part"))
    last = F.col("_pos") == F.col("_n") - 1
    # The element after a final 0x0A (or the only element of an empty file) is not a record.
    kept = exploded.where(~last | (F.length("_part") > 0))
    # Only a record terminated by 0x0A loses one 0x0D before it; an unterminated last record keeps it.
    rec = (F.when(~last & F.col("_part").endswith("\r"), F.expr("substr(_part, 1, length(_part) - 1)"))
           .otherwise(F.col("_part")))
    return kept.select(
        "file_name", "file_seq",
        (F.col("_pos") + 1).cast("bigint").alias("_line_no"),
        F.encode(rec, LATIN1).alias("raw_bytes"),
        rec.alias("rec"),
    )


def _typed(f: FieldSpec, s: Column) -> Column:
    """The bronze value of one decoded field, NULL unless lexically valid; try_ functions never raise under ANSI."""
    if f.type in ("N", "F"):
        parsed = s.try_cast("bigint")
    elif f.type == "B":
        parsed = s.try_cast("tinyint")
    elif f.type == "D":
        parsed = F.try_to_date(s, DATE_FMT)
    elif f.type == "T":
        parsed = F.try_to_timestamp(s, F.lit(TS_FMT))
    else:
        return s
    return F.when(s.rlike(LEXICAL[f.type]), parsed)


def _bad_value(f: FieldSpec, s: Column, typed: Column) -> Column | None:
    """True when a non-NULL value breaks its type's lexical form or, for D/T, is no real date/time."""
    if f.type not in LEXICAL:
        return None
    return s.isNotNull() & typed.isNull()


def _bad_code(f: FieldSpec, s: Column, city_prefix: Column | None) -> Column | None:
    """True when a C value is not in its list (exact case) or a county lacks its row's city prefix."""
    if f.check == "county":
        ok = s.rlike(r"\A[0-9]{6}\z") & (F.substring(s, 1, 4) == city_prefix)
        return s.isNotNull() & ~F.coalesce(ok, F.lit(False))
    if f.type == "C":
        codes = list(f.codes or ())
        return s.isNotNull() & (~s.isin(codes) if codes else F.lit(True))
    return None


def _first(checks: list[tuple[Column | None, str]]) -> Column:
    """The code of the first check that holds, NULL when none does (coalesce evaluates lazily, in order)."""
    whens = [F.when(c, F.lit(code)) for c, code in checks if c is not None]
    if not whens:
        return F.lit(None).cast("string")
    return F.coalesce(*whens) if len(whens) > 1 else whens[0]


def validate(records: DataFrame, spec: InterfaceSpec, gb_prefix: Mapping[str, str],
             data_date_col: str = "_data_date") -> DataFrame:
    """Type every field and name the first failing §3 row check in `reason_code` (NULL = good row),
    in few projections."""
    fields = spec.fields
    if spec.encoding not in ENCODING_OK:
        raise ValueError(f"{spec.ifcode}: unsupported encoding {spec.encoding!r}")
    if any(data_date_col in r.expr for r in spec.rules) and data_date_col not in records.columns:
        raise ValueError(f"{spec.ifcode}: rules use {data_date_col} but records have no such column")
    has_county = any(f.check == "county" for f in fields)
    if has_county and CITY_FIELD not in spec.field_names:
        raise ValueError(f"{spec.ifcode}: a county check needs a {CITY_FIELD} field")
    tmp = [f"__v{i}" for i in range(len(fields))]
    typed_tmp = [f"__t{i}" for i in range(len(fields))]

    # 1. Decode once: a 0x05 can never sit inside a GBK/UTF-8 multi-byte char, so splitting the decoded record gives the
    #    decoded fields (and the field count) of every encoding-valid record, the only rows where they matter.
    #    raw_line keeps U+FFFD for bad bytes (legacy codingErrorAction).
    df = records.select(
        "*",
        F.decode(F.col("raw_bytes"), spec.encoding).alias("raw_line"),
        F.col("rec").rlike(ENCODING_OK[spec.encoding]).alias("__enc_ok"),
    )
    df = df.select("*", F.split(F.col("raw_line"), SEP, -1).alias("__vals"))
    # 2. One STRING per field (empty = NULL; get() is NULL past the end, never an ANSI error).
    df = df.select("*", *[F.nullif(F.get(F.col("__vals"), i), F.lit("")).alias(t) for i, t in enumerate(tmp)])
    # 3. Typed values, still under temporary names so a field may share a name with an input column.
    df = df.select("*", *[_typed(f, F.col(v)).alias(t) for f, v, t in zip(fields, tmp, typed_tmp, strict=True)])

    city_prefix = None
    if has_county and gb_prefix:
        prefix_map = F.create_map(*[F.lit(x) for kv in sorted(gb_prefix.items()) for x in kv])
        city_prefix = F.try_element_at(prefix_map, F.col(tmp[spec.field_names.index(CITY_FIELD)]))
    elif has_county:
        city_prefix = F.lit(None).cast("string")

    checks: list[tuple[Column | None, str]] = [
        (~F.col("__enc_ok"), "BAD_ENCODING"),
        (F.size("__vals") != F.lit(len(fields)), "FIELD_COUNT"),
    ]
    checks += [(F.col(v).isNull(), f"NULL_VIOLATION:{f.name}") for f, v in zip(fields, tmp, strict=True) if f.required]
    checks += [(_bad_value(f, F.col(v), F.col(t)), f"BAD_VALUE:{f.name}")
               for f, v, t in zip(fields, tmp, typed_tmp, strict=True)]
    checks += [(_bad_code(f, F.col(v), city_prefix), f"BAD_CODE:{f.name}") for f, v in zip(fields, tmp, strict=True)]
    keep = [F.col(c) for c in records.columns if c not in spec.field_names] + [F.col("raw_line")]
    df = df.select(*keep, *[F.col(t).alias(f.name) for f, t in zip(fields, typed_tmp, strict=True)],
                   _first(checks).alias("__pre"))

    # 4. Rules see the typed columns by field name; coalesce skips them on rows that already failed.
    rules = _first([(~F.expr(r.expr), f"RULE:{r.id}") for r in spec.rules])
    out_cols = [c for c in df.columns if c != "__pre"]
    return df.select(*out_cols, F.coalesce(F.col("__pre"), rules).alias("reason_code"))


def mark_duplicates(good: DataFrame, spec: InterfaceSpec, within: Sequence[str] = ()) -> DataFrame:
    """Flag all but the winning row per typed key within the batch (§3), so dropped duplicates are counted, not lost.

    `within` names columns that separate batches when several are checked together (e.g. the data date)."""
    seq = "file_seq" if "file_seq" in good.columns else "_file_seq"
    order = [F.col(seq).desc(), F.col("_line_no").desc()]
    if spec.freq == "D":
        if "update_time" not in spec.field_names:
            raise ValueError(f"{spec.ifcode}: a daily interface needs update_time to pick the latest duplicate")
        order = [F.col("update_time").desc_nulls_last()] + order
    w = Window.partitionBy(*[F.col(c) for c in within], *[F.col(k) for k in spec.key]).orderBy(*order)
    return good.withColumn("_dup", F.row_number().over(w) > 1)
