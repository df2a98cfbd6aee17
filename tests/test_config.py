"""conf/ transcribes the contract (sources.md §4, README §4) and the loader rejects what it does not know."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml
from csqm.config import DEFAULT_CONF_DIR, SALT_ENV, ConfigError, load_config

FIELD_COUNTS = {
    "FLT_TICKET": 21, "CS_SHEET": 24, "SP_ORDER": 24, "SP_STEP": 9, "CC_CALL": 24, "HALL_QUEUE": 14,
    "EC_LOG": 18, "SMS_CALLBACK": 20, "OB_TASK": 16, "BILL_ADJ": 17, "PTS_TXN": 11, "PTS_EXCH": 14,
    "APPEAL": 18, "ESCAL": 17, "SUBS": 25, "PTS_BAL": 8,
}
KEYS = {
    "FLT_TICKET": ("fault_id",), "CS_SHEET": ("sheet_id",), "SP_ORDER": ("order_id",),
    "SP_STEP": ("order_id", "step_seq"), "CC_CALL": ("call_id",), "HALL_QUEUE": ("ticket_id",),
    "EC_LOG": ("elog_id",), "SMS_CALLBACK": ("callback_id",), "OB_TASK": ("task_id",), "BILL_ADJ": ("adj_id",),
    "PTS_TXN": ("txn_id",), "PTS_EXCH": ("exch_id",), "APPEAL": ("appeal_id",), "ESCAL": ("escal_id",),
    "SUBS": ("prod_inst_id",), "PTS_BAL": ("cust_id", "points_type"),
}
MONTHLY = {"APPEAL", "ESCAL", "SUBS", "PTS_BAL"}
CITIES = ("0531", "0532", "0533", "0632", "0546", "0535", "0536", "0537", "0538", "0631", "0633", "0634",
          "0539", "0534", "0635", "0543", "0530")
PII = {"acc_nbr", "caller_no", "main_acc_nbr", "cert_nbr"}


@pytest.fixture(scope="module")
def real():
    return load_config()


def test_interfaces_and_field_counts(real):
    assert list(real.interfaces) == list(FIELD_COUNTS)
    assert {k: len(v.fields) for k, v in real.interfaces.items()} == FIELD_COUNTS


def test_keys_freq_encoding(real):
    for ifc, spec in real.interfaces.items():
        assert spec.key == KEYS[ifc], ifc
        assert spec.freq == ("M" if ifc in MONTHLY else "D"), ifc
        assert spec.encoding == ("UTF-8" if ifc == "EC_LOG" else "GBK"), ifc
        assert len(set(spec.field_names)) == len(spec.fields), ifc
        assert all(spec.field(k).required for k in spec.key), ifc


def test_field_attributes(real):
    for ifc, spec in real.interfaces.items():
        for f in spec.fields:
            assert f.pii == (f.name in PII), (ifc, f.name)
            if f.name == "county_code":
                assert (f.type, f.check) == ("S", "county"), ifc
            if f.name == "city_code":
                assert (f.code_type, f.codes) == ("city_code", CITIES), ifc
            assert (f.type == "C") == (f.codes is not None), (ifc, f.name)
            assert f.type != "C" or all(isinstance(c, str) and c for c in f.codes), (ifc, f.name)


def test_code_lists_of_fields(real):
    i = real.interfaces
    assert i["FLT_TICKET"].field("accept_channel").code_type == "channel_type"
    assert i["CC_CALL"].field("service_type").code_type == "contact_purpose"
    assert i["CC_CALL"].field("rating").codes == ("1", "2", "3")
    assert i["SMS_CALLBACK"].field("product_line").codes == ("MOB", "BB")
    assert i["SMS_CALLBACK"].field("reply_code").codes == ("1", "2", "3", "4", "9")
    assert i["EC_LOG"].field("channel_type").codes == real.codes.electronic_channels
    assert i["SUBS"].field("cust_segment_l2").code_type == "cust_segment_l2"
    assert i["ESCAL"].field("cmpl_phen_l1").codes == i["CS_SHEET"].field("cmpl_phen_l1").codes
    assert i["ESCAL"].field("result_code").codes == i["APPEAL"].field("result_code").codes
    assert i["PTS_BAL"].field("points_type").codes == i["PTS_TXN"].field("points_type").codes


def test_rule_ids_in_order(real):
    rules = {k: tuple(r.id for r in v.rules) for k, v in real.interfaces.items()}
    assert rules["CC_CALL"] == ("R1", "R2")
    assert rules["SUBS"] == ("R1", "R2", "R3", "G1")
    assert rules["HALL_QUEUE"] == ()
    for ifc, ids in rules.items():
        numbered = [x for x in ids if x.startswith("R")]
        assert numbered == [f"R{n}" for n in range(1, len(numbered) + 1)], ifc
        assert ids == tuple(numbered) + tuple(x for x in ids if x == "G1"), ifc


def test_cities_and_codes(real):
    c = real.codes
    assert c.city_codes == CITIES
    assert len({x.gb_code for x in c.cities}) == 17
    assert all(x.gb_code.startswith("37") and len(x.gb_code) == 6 for x in c.cities)
    assert sum(x.weight for x in c.cities) == pytest.approx(1.0)
    assert min(c.cities, key=lambda x: x.weight).city_code == "0634"  # 莱芜
    assert [x.city_code for x in c.special_cities] == ["0000", "9999"]
    assert c.lists["rating"] == {"1": "满意", "2": "一般", "3": "不满意"}
    assert set(c.lists) == {"product_line", "cust_segment", "cust_segment_l2", "vip_level", "pay_type",
                            "urban_rural", "channel_type", "contact_purpose", "rating", "callback_result",
                            "tenure_band", "points_band"}
    assert set(c.electronic_channels) <= set(c.lists["channel_type"])
    assert c.special_members == {"UNK": "未知", "NA": "不适用", "NONE": "无"}


# ------------------------------------------------------------------ strictness
@pytest.fixture()
def conf_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "conf"
    shutil.copytree(DEFAULT_CONF_DIR, dst)
    return dst


def _edit(path: Path, fn) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_copy_loads(conf_copy):
    assert len(load_config(conf_copy).interfaces) == 16


def test_rejects_unknown_env_key(conf_copy):
    _edit(conf_copy / "env" / "local.yaml", lambda d: d["spark"].update(bogus_setting=1))
    with pytest.raises(ConfigError, match="bogus_setting"):
        load_config(conf_copy)


def test_rejects_unknown_top_level_env_key(conf_copy):
    _edit(conf_copy / "env" / "cluster.yaml", lambda d: d.update(extra_root="x"))
    with pytest.raises(ConfigError, match="extra_root"):
        load_config(conf_copy, env="cluster")


def test_dq_parallelism_from_profile_and_strict(conf_copy):
    assert load_config(conf_copy).env.dq_parallelism == 4
    _edit(conf_copy / "env" / "local.yaml", lambda d: d["dq"].update(parallelism=2))
    assert load_config(conf_copy).env.dq_parallelism == 2
    _edit(conf_copy / "env" / "local.yaml", lambda d: d["dq"].update(threads=2))
    with pytest.raises(ConfigError, match=r"dq.*threads"):
        load_config(conf_copy)


def test_gold_broadcast_months_from_profile_and_strict(conf_copy):
    assert load_config(conf_copy).env.gold_broadcast_months == 4
    _edit(conf_copy / "env" / "local.yaml", lambda d: d["gold"].update(broadcast_months=12))
    assert load_config(conf_copy, env="cluster").env.gold_broadcast_months == 12   # the cluster profile inherits it
    _edit(conf_copy / "env" / "local.yaml", lambda d: d["gold"].update(broadcast=12))
    with pytest.raises(ConfigError, match=r"gold.*broadcast"):
        load_config(conf_copy)


def test_stats_columns_per_layer_and_strict(conf_copy):
    r = load_config(conf_copy).retention
    assert r.properties("bronze")["delta.dataSkippingNumIndexedCols"] == "0"
    assert "delta.dataSkippingNumIndexedCols" not in r.properties("gold")  # Delta's default there
    _edit(conf_copy / "retention.yaml", lambda d: d["layers"]["gold"].update(stats_columns=5))
    assert load_config(conf_copy).retention.properties("gold")["delta.dataSkippingNumIndexedCols"] == "5"
    for bad in (-1, "all", 2.5):
        _edit(conf_copy / "retention.yaml", lambda d, b=bad: d["layers"]["gold"].update(stats_columns=b))
        with pytest.raises(ConfigError, match=r"retention.yaml:layers.gold.stats_columns = .*0 or more"):
            load_config(conf_copy)


def test_silver_statistics_only_on_business_day_columns_and_strict(conf_copy):
    r = load_config(conf_copy).retention
    cols = ["ticket_id", "accept_day_id", "close_day_id", "ref_month_id", "close_time", "city_code"]
    assert r.properties("silver", cols)["delta.dataSkippingStatsColumns"] == "accept_day_id,close_day_id,ref_month_id"
    assert r.properties("silver", ["prod_inst_id", "acc_nbr_hash"])["delta.dataSkippingStatsColumns"] == ""
    assert "delta.dataSkippingStatsColumns" not in r.properties("bronze", cols)
    for bad in ("*day_id", [], [""], [3]):
        _edit(conf_copy / "retention.yaml", lambda d, b=bad: d["layers"]["gold"].update(stats_on=b))
        with pytest.raises(ConfigError, match=r"retention.yaml:layers.gold.stats_on = .*column name patterns"):
            load_config(conf_copy)
    _edit(conf_copy / "retention.yaml", lambda d: (d["layers"]["gold"].pop("stats_on"),
                                                   d["layers"]["bronze"].update(stats_on=["*day_id"])))
    with pytest.raises(ConfigError, match=r"layers.bronze: stats_columns and stats_on exclude each other"):
        load_config(conf_copy)


def test_rejects_unknown_field_key(conf_copy):
    _edit(conf_copy / "sources.yaml", lambda d: d["interfaces"]["SP_STEP"]["fields"][1].update(nullable=True))
    with pytest.raises(ConfigError, match=r"SP_STEP\.fields\[1\]\.nullable"):
        load_config(conf_copy)


def test_rejects_unknown_backlog_key(conf_copy):
    def typo(d):
        m = next(m for m in d["tables"]["gld_provision_step_m"]["metrics"] if m["code"] == "STEP_BACKLOG")
        m["backlog"]["leave_days"] = m["backlog"].pop("leave_day")

    _edit(conf_copy / "metrics" / "monthly.yaml", typo)
    with pytest.raises(ConfigError, match=r"STEP_BACKLOG\)\.backlog.*leave_days"):
        load_config(conf_copy).section("metrics")


def test_rejects_missing_salt(conf_copy, monkeypatch):
    monkeypatch.delenv(SALT_ENV, raising=False)
    _edit(conf_copy / "env" / "local.yaml", lambda d: d["pii"].pop("salt"))
    with pytest.raises(ConfigError, match=r"pii\.salt"):
        load_config(conf_copy)


def test_salt_from_environment(conf_copy, monkeypatch):
    monkeypatch.setenv(SALT_ENV, "from-env")
    _edit(conf_copy / "env" / "local.yaml", lambda d: d["pii"].pop("salt"))
    assert load_config(conf_copy).env.pii_salt == "from-env"


def test_rejects_unknown_override():
    with pytest.raises(ConfigError, match="warehouse_root"):
        load_config(overrides={"warehouse_root": "/tmp/x"})


@pytest.mark.parametrize(("given", "resolved"), [
    ("file:/data/lake", "file:///data/lake"), ("hdfs:/warehouse/lake", "hdfs:///warehouse/lake"),
    ("file:///data/lake", "file:///data/lake"), ("s3a://bucket/lake", "s3a://bucket/lake"),
    ("/data/lake", "/data/lake"),
])
def test_lake_root_uri_forms(given, resolved):
    """Hadoop's short URI form is a URI, not a folder named 'file:' under the project."""
    assert load_config(overrides={"lake_root": given}).env.lake_root == resolved


def test_relative_lake_root_is_under_the_project():
    got = load_config(overrides={"lake_root": "some/lake"}).env.lake_root
    assert os.path.isabs(got) and got.endswith("/some/lake") and "file:" not in got
