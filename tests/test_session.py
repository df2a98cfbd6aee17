"""csqm.session: the JVM the factory launches."""
from __future__ import annotations


def test_the_jvm_is_launched_with_a_capped_malloc_arena_count(spark):
    """The session fixture's JVM was started by get_spark: it saw LAUNCH_ENV (CI does not set the variable)."""
    from csqm.session import LAUNCH_ENV

    assert spark.sparkContext._jvm.java.lang.System.getenv("MALLOC_ARENA_MAX") == LAUNCH_ENV["MALLOC_ARENA_MAX"]
