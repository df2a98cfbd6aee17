"""Which silver rows an incremental run recomputes (silver.md §0.1, §0.3.4, §0.5; README §10.1).

Pure DataFrame -> DataFrame transforms on key sets; the wiring (what to read, in which order, how to write) is in
csqm.pipeline.silver_incremental. A key set is a DataFrame of distinct key columns; None stands for "no key" so
callers can skip work without running a job.

Terms:
  seeds      keys whose own inputs changed: bronze rows, an upstream silver row they join, their subscriber snapshot
  closure    seeds plus every stored row that shares a window subject (e.g. acc_nbr_hash) with a seed's old or new
             row, so the subset given to a builder is closed under its windows (csqm.silver.tables docstring)
  changes    the rows of a silver table that differ between the stored table and the rebuilt rows: one column
             __old (struct of the stored row, NULL if the key is new) and __new (NULL if the key is gone)
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from csqm.months import shift
from csqm.silver.common import US, current_state, epoch_micros

KeySet = DataFrame | None
OLD, NEW = "__old", "__new"


# ---------------------------------------------------------------- key-set algebra


def union_keys(frames: Iterable[KeySet], cols: Sequence[str]) -> KeySet:
    """Distinct union of the given columns over the frames that are not None; None when every frame is None."""
    present = [f.select(*cols) for f in frames if f is not None]
    if not present:
        return None
    out = present[0]
    for f in present[1:]:
        out = out.unionByName(f)
    return out.where(reduce(lambda a, b: a | b, [F.col(c).isNotNull() for c in cols])).distinct()


def rows_with_values(rows: DataFrame, col: str, values: KeySet, values_col: str | None = None, *,
                     small: bool) -> KeySet:
    """Rows whose `col` is one of the (non-NULL) values; None when there are no values."""
    if values is None:
        return None
    v = values.select(F.col(values_col or col).alias("__v")).where(F.col("__v").isNotNull()).distinct()
    return rows.join(_hinted(v, small), rows[col] == v["__v"], "left_semi")


def keys_with_values(rows: DataFrame, key: Sequence[str], col: str, values: KeySet,
                     values_col: str | None = None, *, small: bool) -> KeySet:
    """Keys of the rows whose `col` is one of the values (e.g. faults a changed complaint references)."""
    hit = rows_with_values(rows, col, values, values_col, small=small)
    return None if hit is None else hit.select(*key).distinct()


def in_values(col: str, values: Iterable[str | None]) -> Column:
    """`col` is one of the values (NULL when None is one): a literal predicate, so a partition column prunes."""
    vals = list(values)
    known = [v for v in vals if v is not None]
    cond = F.col(col).isin(known) if known else F.lit(False)
    return cond | F.col(col).isNull() if None in vals else cond


def partitions_holding(rows: DataFrame, keys: DataFrame, cols: Sequence[str], part: str) -> DataFrame:
    """The distinct `part` values of the rows of a small key set, read from the key and partition columns only."""
    return semi(rows.select(*cols, part), keys, cols, small=True).select(part).distinct()


def _hinted(keys: DataFrame, small: bool) -> DataFrame:
    """A small key set is broadcast; a big one (millions of keys at scale) is left to the planner, which shuffles it
    rather than building a hash table of it in the driver."""
    return F.broadcast(keys) if small else keys


def semi(rows: DataFrame, keys: DataFrame, on: Sequence[str] | None = None, *, small: bool) -> DataFrame:
    """Rows whose `on` columns (default: every column of keys) are in the key set; `small` has no default because a
    backlog's key set broadcast by mistake runs the driver out of heap."""
    cols = list(on or keys.columns)
    return rows.join(_hinted(keys.select(*cols).distinct(), small), on=cols, how="left_semi")


# ---------------------------------------------------------------- bronze


def changed_bronze_rows(now_rows: DataFrame, then_rows: DataFrame | None, cols: Sequence[str]) -> DataFrame:
    """The columns `cols` of the rows of the changed partitions now and at the watermark version: a replaced batch's
    rows that disappeared are still named by the second part (silver.md §0.1: every key of the old or new batch)."""
    return union_keys([now_rows, then_rows], cols)


def restricted_current(bronze: DataFrame, key: Sequence[str], scope: DataFrame, small: bool = True) -> DataFrame:
    """Current state (sources.md §1.5) of the keys in scope, over ALL batches of those keys.

    The scope's columns are bronze columns. When they are part of the key, filtering before the current-state
    window is exact. Otherwise (an e-channel session: (channel_type, session_id)) a key's latest version may sit
    outside the scope while an older one is inside, so the keys that ever had a row in scope are taken first,
    their current state computed, and only then filtered to the scope."""
    cols = list(scope.columns)
    if set(cols) <= set(key):
        return current_state(semi(bronze, scope, small=small), key)
    ids = semi(bronze, scope, small=small).select(*key).distinct()
    return semi(current_state(semi(bronze, ids, small=small), key), scope, small=small)


# ---------------------------------------------------------------- silver rows


def row_changes(old: DataFrame, new: DataFrame, key: Sequence[str], cols: Sequence[str]) -> DataFrame:
    """Keys whose row differs between old (stored) and new (rebuilt), with both versions as structs (NULL = absent).
    Equality is exact (null-safe struct equality over `cols`), not a hash."""
    o = old.select(*key, F.struct(*cols).alias(OLD))
    n = new.select(*key, F.struct(*cols).alias(NEW))
    return o.join(n, on=list(key), how="full_outer").where(~F.col(OLD).eqNullSafe(F.col(NEW)))


def change_versions(changes: DataFrame) -> DataFrame:
    """The old and the new version of every changed row as plain rows (table columns), absent sides dropped."""
    return (changes.where(F.col(OLD).isNotNull()).select(f"{OLD}.*")
            .unionByName(changes.where(F.col(NEW).isNotNull()).select(f"{NEW}.*")))


def changed_values(changes: DataFrame | None, col: str, where: Column | None = None) -> KeySet:
    """Distinct non-NULL values of `col` over the old and new versions of the changed rows (optionally filtered),
    e.g. the related_fault_id of every complaint that changed, before and after."""
    if changes is None:
        return None
    v = change_versions(changes)
    if where is not None:
        v = v.where(where)
    return v.select(col).where(F.col(col).isNotNull()).distinct()


def changed_partitions(changes: DataFrame, part: str) -> DataFrame:
    """Partitions a change touches: the old partition of a replaced/deleted row and the new one of a written row."""
    return union_keys([changes.select(F.col(f"{OLD}.{part}").alias(part)),
                       changes.select(F.col(f"{NEW}.{part}").alias(part))], [part])


def reenrich_keys(stored: DataFrame, key: Sequence[str], months: Iterable[str], day_col: str = "day_id") -> KeySet:
    """Rows enriched from a snapshot month that changed (silver.md §0.3.4): every row with that ref_month_id.

    A daily row's ref_month_id is prev(month) of the business date that also gives its day_id, so the rows of month M
    are all in the day partitions of M+1: only those are read, not the table's whole history."""
    ms = month_values(months)
    if not ms:
        return None
    rows = stored.where(in_months(day_col, [shift(m, 1) for m in ms]) & F.col("ref_month_id").isin(ms))
    return rows.select(*key).distinct()


def subject_closure(seeds: KeySet, key: Sequence[str], subject: Callable[[], Column], stored: DataFrame,
                    rebuilt: DataFrame | None, small: bool = True,
                    forward: tuple[Callable[[], Column], int] | None = None) -> KeySet:
    """Seeds plus the keys of every stored row sharing a window subject with a seed's stored or rebuilt row.

    A row outside the seeds keeps its subject (none of its inputs changed), so stored rows suffice to find the
    neighbours; `rebuilt` holds the seeds' new rows (their new subjects). NULL subjects have no neighbours.

    forward = (time, seconds) for a table whose windows only look forward in time (a row's flags read the later rows of
    its subject within `seconds`, as is_repeat_48h does): a stored row more than `seconds` before every old and new
    time of its subject's seeds can then not change, and the rows from that bound on hold every later row that their
    own windows read. Without it the closure takes the subject's whole history (docs/bench.md, session 20). Rows with
    a NULL time neither read nor are read by such a window, so they are not neighbours."""
    if seeds is None:
        return None
    seeds = seeds.select(*key)
    probe = [subject().alias("__s")] + ([forward[0]().alias("__t")] if forward else [])
    old = semi(stored, seeds, small=small).select(*probe)
    new = rebuilt.select(*probe) if rebuilt is not None else None
    if forward is None:
        subjects = union_keys([old, new], ["__s"])
        neighbours = semi(stored.withColumn("__s", subject()), subjects, small=small)
        return union_keys([seeds, neighbours], key)
    time, seconds = forward
    times = old if new is None else old.unionByName(new)
    lows = (times.where(F.col("__s").isNotNull() & F.col("__t").isNotNull())
            .groupBy("__s").agg(F.min(epoch_micros("__t")).alias("__lo")))
    rows = stored.select(*key, subject().alias("__s"), epoch_micros(time()).alias("__t"))
    neighbours = rows.join(_hinted(lows, small), "__s").where(F.col("__t") >= F.col("__lo") - F.lit(seconds * US))
    return union_keys([seeds, neighbours], key)


# ---------------------------------------------------------------- months


def month_values(months: Iterable[str]) -> list[str]:
    return sorted({m for m in months if m})


def with_next_months(months: Iterable[str]) -> list[str]:
    """M and M+1 for every M (prev_offer_id of M+1, a txn month's fallback to the balance of prev(M))."""
    ms = month_values(months)
    return month_values([*ms, *(shift(m, 1) for m in ms)])


def in_months(day_col: str, months: Iterable[str]) -> Column:
    """A yyyymmdd column within the months, as ranges so that a day_id partition column prunes."""
    ranges = [(F.col(day_col) >= f"{m}01") & (F.col(day_col) <= f"{m}31") for m in month_values(months)]
    return reduce(lambda a, b: a | b, ranges, F.lit(False))


# ---------------------------------------------------------------- contacts (silver.md §7)

CALL, HALL, EC = "CC:", "HQ:", "EC:"


def sessions_of(changed_logs: DataFrame, logs: DataFrame, *, small: bool) -> KeySet:
    """Every e-channel session a changed log row had: in the changed partitions now and then (changed_logs), and in
    any other batch of the same elog_id (logs: all of bronze EC_LOG)."""
    other = semi(logs, changed_logs.select("elog_id"), small=small)
    return union_keys([changed_logs, other], ["channel_type", "session_id"])


def contact_ids(calls: KeySet = None, halls: KeySet = None, sessions: KeySet = None) -> KeySet:
    """contact_id of HOTLINE calls (call_id), hall tickets (ticket_id) and e-channel sessions (channel_type,
    session_id)."""
    parts = []
    if calls is not None:
        parts.append(calls.select(F.concat(F.lit(CALL), F.col("call_id")).alias("contact_id")))
    if halls is not None:
        parts.append(halls.select(F.concat(F.lit(HALL), F.col("ticket_id")).alias("contact_id")))
    if sessions is not None:
        parts.append(sessions.select(F.concat(F.lit(EC), F.col("channel_type"), F.lit(":"),
                                              F.col("session_id")).alias("contact_id")))
    return union_keys(parts, ["contact_id"])


def contact_sources(contacts: DataFrame) -> Mapping[str, DataFrame]:
    """The bronze keys behind contact ids: CC_CALL call_id, HALL_QUEUE ticket_id, EC_LOG (channel_type,
    session_id). channel_type never holds ':', so the session id is everything after the second ':'."""
    cid = F.col("contact_id")
    ec = F.split(cid, ":", 3)
    return {
        "CC_CALL": contacts.where(cid.startswith(CALL)).select(F.substring(cid, len(CALL) + 1, 1 << 20)
                                                                .alias("call_id")),
        "HALL_QUEUE": contacts.where(cid.startswith(HALL)).select(F.substring(cid, len(HALL) + 1, 1 << 20)
                                                                   .alias("ticket_id")),
        "EC_LOG": contacts.where(cid.startswith(EC)).select(F.element_at(ec, 2).alias("channel_type"),
                                                             F.element_at(ec, 3).alias("session_id")),
    }
