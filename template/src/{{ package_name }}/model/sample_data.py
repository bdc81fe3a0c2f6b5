"""The example's data: a seeded, Spark-native generator of customer-churn rows.

Yours, like the rest of `model/`: replace it with a generator for your own example, or
delete it once `source` in conf/envs/*.yml reads your data. `ingest` calls
`generate(spark, rows, seed=, drift=, partitions=)` for `source.type: sample`.

Generated in Spark (not pandas) so that benchmarks can ask for millions of rows.
Every random column is `rand(seed + k)` over a range with a fixed partition count,
which makes the output identical run after run.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

NUMERIC_FEATURES = ("tenure_months", "monthly_charges", "total_charges", "support_calls")
CATEGORICAL_FEATURES = ("contract", "payment_method", "region")
CONTRACTS = ("month-to-month", "one-year", "two-year")
PAYMENT_METHODS = ("electronic-check", "mailed-check", "bank-transfer", "credit-card")
REGIONS = ("north", "south", "east", "west")
LABEL = "churn"
ID_COLUMN = "customer_id"
# What `drift=True` changes (strongest first) and what it leaves alone, so that tests
# of drift detection read it here instead of naming the example's columns.
DRIFTED = ("monthly_charges", "support_calls", "contract")
UNCHANGED = ("region",)


def _pick(u: Column, values: tuple[str, ...], cumulative: tuple[float, ...]) -> Column:
    expr = F.lit(values[-1])
    for value, bound in reversed(list(zip(values[:-1], cumulative, strict=True))):
        expr = F.when(u < bound, F.lit(value)).otherwise(expr)
    return expr


def generate(
    spark: SparkSession, rows: int, seed: int = 42, drift: bool = False, partitions: int = 4
) -> DataFrame:
    """`rows` customers with numeric and categorical features and a 0/1 churn label.

    With `drift=True` the same customers look different: higher charges, more support
    calls and more month-to-month contracts, as after a price change.
    """

    def u(k: int) -> Column:
        return F.rand(seed * 100 + k)

    charge_shift = 1.3 if drift else 1.0
    calls_rate = 3.0 if drift else 1.5
    contract_mix = (0.8, 0.92) if drift else (0.55, 0.8)

    # Each draw is a column first: a rand() inside a when() chain only advances on the
    # branches that run, which would skew the category shares.
    draws = spark.range(0, rows, numPartitions=partitions).select(
        "id", *[u(k).alias(f"_u{k}") for k in range(1, 9)]
    )
    df = draws.select(
        F.format_string("C%09d", F.col("id")).alias(ID_COLUMN),
        (F.floor(F.col("_u1") * 72) + 1).cast("int").alias("tenure_months"),
        F.round((F.lit(20.0) + F.col("_u2") * 100.0) * charge_shift, 2).alias("monthly_charges"),
        F.least(F.floor(-F.log(F.lit(1.0) - F.col("_u3")) * calls_rate), F.lit(15))
        .cast("int")
        .alias("support_calls"),
        _pick(F.col("_u4"), CONTRACTS, contract_mix).alias("contract"),
        _pick(F.col("_u5"), PAYMENT_METHODS, (0.35, 0.55, 0.78)).alias("payment_method"),
        _pick(F.col("_u6"), REGIONS, (0.3, 0.55, 0.8)).alias("region"),
        F.col("_u7").alias("_noise"),
        F.col("_u8").alias("_draw"),
    )
    logit = (
        F.lit(-1.2)
        + F.when(F.col("contract") == "month-to-month", 1.4).otherwise(0.0)
        - F.col("tenure_months") * 0.035
        + (F.col("monthly_charges") - 70.0) * 0.018
        + F.col("support_calls") * 0.4
        + F.when(F.col("payment_method") == "electronic-check", 0.4).otherwise(0.0)
    )
    return df.select(
        ID_COLUMN,
        "tenure_months",
        "monthly_charges",
        F.round(
            F.col("tenure_months")
            * F.col("monthly_charges")
            * (F.lit(0.95) + F.col("_noise") * 0.1),
            2,
        ).alias("total_charges"),
        "support_calls",
        "contract",
        "payment_method",
        "region",
        (F.col("_draw") < 1.0 / (1.0 + F.exp(-logit))).cast("int").alias(LABEL),
    )
