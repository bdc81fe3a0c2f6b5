"""Lifecycle benchmark: batch inference and drift monitoring on local Spark.

    .venv/bin/python bench/bench_lifecycle.py [--sizes 100000,1000000] [--monitor 1000000,5000000]

Renders the default project into a temp dir, trains and promotes a champion on the
sample data, then measures:

* inference of the project's Spark scoring (`platform.scoring.score`, the one path
  every model takes) for two models: the default pipeline, and a
  HistGradientBoostingClassifier pipeline logged the way `train` logs models. Each is
  measured against the same model's in-process pandas `predict` on the same rows (the
  limit; target for the gradient-boosting model: Spark within 2x) and against MLflow's
  stock `spark_udf`, side by side in one run;
* `monitoring.drift.compare` on 10 features (target < 30 s at 1M rows, linear growth).

Input tables are written to Delta before timing; timings include reading them. Not a
test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import copier

ROOT = Path(__file__).resolve().parents[1]


def timed(func) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def best_of(runs: int, func) -> float:
    return min(timed(func) for _ in range(runs))


def log_gradient_boosting(spark) -> str:
    """A HistGradientBoostingClassifier pipeline on the sample data, logged as train logs
    the project's model (in the tracking store `tracking.configure` set); its URI."""
    import mlflow
    from churn_model import model
    from churn_model.model import sample_data
    from churn_model.platform import tracking
    from mlflow.models import infer_signature
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    data = sample_data.generate(spark, 20_000, seed=3).toPandas()
    encode = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    estimator = Pipeline(
        [
            (
                "preprocess",
                ColumnTransformer(
                    [("categorical", encode, model.CATEGORICAL)], remainder="passthrough"
                ),
            ),
            ("classifier", HistGradientBoostingClassifier(random_state=0)),
        ]
    ).fit(data[model.FEATURES], data[model.LABEL])
    example = data[model.FEATURES].head(5)
    with mlflow.start_run(run_name="bench-gradient-boosting"):
        info = tracking.log_model(  # the platform's default logging, as train calls it
            estimator,
            predict_fn="predict_proba",
            name="model",
            signature=infer_signature(example, estimator.predict_proba(example)),
            pip_requirements=tracking.model_requirements(estimator),
        )
    return info.model_uri


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000", help="inference row counts")
    parser.add_argument("--monitor", default="1000000,5000000", help="monitor row counts")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per cell (best)")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",") if n]
    monitor_sizes = [int(n) for n in args.monitor.split(",") if n]

    tmp = Path(tempfile.mkdtemp(prefix="bench-lifecycle-"))
    project = tmp / "project"
    copier.run_copy(str(ROOT), str(project), defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True)
    os.environ["MLOPS_LOCAL_DIR"] = str(tmp / "local")
    os.chdir(project)
    sys.path.insert(0, str(project / "src"))

    import mlflow
    from churn_model import cli, model
    from churn_model.model import sample_data
    from churn_model.monitoring import drift
    from churn_model.platform import problems, tracking
    from churn_model.platform.config import load_config
    from churn_model.platform.scoring import score
    from churn_model.platform.spark import local_spark
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    spark = local_spark(tmp / "local", app_name="bench", long_running=True)
    problem = problems.of_model(model)
    for task in ("ingest", "validate", "train", "evaluate", "promote"):
        cli.main([task, "--env", "local"])  # a failed set-up task raises TaskFailed
    config = load_config("local", project / "conf")
    tracking.configure(config)
    threshold = config.env.inference.threshold  # the one infer decides with
    models = {"default": f"models:/{config.model_name}@champion"}
    models["gradient boosting"] = log_gradient_boosting(spark)
    spark.sql("CREATE SCHEMA IF NOT EXISTS bench")

    def noop(df) -> None:
        df.write.format("noop").mode("overwrite").save()

    inference = []
    for rows in sizes:
        table = f"bench.features_{rows}"
        sample_data.generate(spark, rows, seed=7).write.format("delta").mode(
            "overwrite"
        ).saveAsTable(table)
        frame = spark.read.table(table)
        pandas_rows = frame.select(*model.FEATURES).toPandas()
        # Spark's own floor: reading the same columns, scoring nothing.
        floor = best_of(args.runs, lambda f=frame: noop(f.select(model.ID_COLUMN, *model.FEATURES)))
        for label, uri in models.items():
            pyfunc = mlflow.pyfunc.load_model(uri)
            limit = best_of(args.runs, lambda p=pandas_rows, m=pyfunc: m.predict(p))
            ours = best_of(
                args.runs,
                lambda f=frame, u=uri: noop(
                    score(
                        f,
                        u,
                        model.ID_COLUMN,
                        model.FEATURES,
                        model.SCORE_COLUMN,
                        problem,
                        threshold,
                    )
                ),
            )
            udf = mlflow.pyfunc.spark_udf(
                spark, uri, result_type=T.ArrayType(T.DoubleType()), env_manager="local"
            )
            stock = best_of(
                args.runs,
                lambda f=frame, u=udf: noop(f.select(u(F.struct(*model.FEATURES))[1])),
            )
            inference.append((label, rows, limit, floor, ours, stock))

    extra = [f"x{i}" for i in range(3)]  # 7 sample features + 3 = 10
    columns = [*model.FEATURES, *extra]
    monitoring = []
    for rows in monitor_sizes:
        for side, seed, drifted in (("reference", 1, False), ("current", 2, True)):
            data = sample_data.generate(spark, rows, seed=seed, drift=drifted, partitions=8)
            noise = [(F.rand(seed + i) * 10).alias(c) for i, c in enumerate(extra)]
            data = data.select("*", *noise)
            data.write.format("delta").mode("overwrite").saveAsTable(f"bench.{side}_{rows}")
        reference = spark.table(f"bench.reference_{rows}")
        current = spark.table(f"bench.current_{rows}")
        elapsed = best_of(1, lambda r=reference, c=current: drift.compare(r, c, columns))
        monitoring.append((rows, elapsed))

    cores = spark.sparkContext.defaultParallelism
    print(f"\nBatch inference (local[*], {cores} cores; scoring to a no-op sink)")
    print(
        f"{'model':<18} {'rows':>10} {'pandas predict':>15} {'spark read only':>16} "
        f"{'spark score':>12} {'ratio':>7} {'rows/s':>10} {'stock spark_udf':>16} {'ratio':>7}"
    )
    for label, rows, limit, floor, ours, stock in inference:
        print(
            f"{label:<18} {rows:>10,} {limit:>13.2f} s {floor:>14.2f} s {ours:>10.2f} s "
            f"{ours / limit:>6.2f}x {rows / ours:>10,.0f} {stock:>14.2f} s {stock / limit:>6.2f}x"
        )
    print("target: spark score within 2x of pandas predict for the gradient-boosting model")
    print(f"\nDrift monitor, {len(columns)} features, reference and current of the same size")
    print(f"{'rows':>10} {'wall time':>10} {'s per 1M rows':>14}  target")
    for rows, elapsed in monitoring:
        print(f"{rows:>10,} {elapsed:>8.1f} s {elapsed / rows * 1e6:>14.1f}  < 30 s at 1M, linear")
    spark.stop()


if __name__ == "__main__":
    main()
