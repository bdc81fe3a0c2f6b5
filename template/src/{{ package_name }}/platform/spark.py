"""The one Spark session: the cluster's on Databricks, an embedded one locally.

Locally Delta Lake's jars come from Maven Central through `spark.jars.packages`
(delta-spark's pip helper, Ivy cache under ~/.ivy2.5.2). On a machine where Ivy
cannot reach Maven, `make delta-jars` downloads them with Maven and this module
passes them through `spark.jars` instead (set MLOPS_SPARK_JARS).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

LOCAL_DIR_VARIABLE = "MLOPS_LOCAL_DIR"
JARS_VARIABLE = "MLOPS_SPARK_JARS"


def on_databricks() -> bool:
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def local_dir() -> Path:
    """Where local tables, the metastore, MLflow and reports live (default .local/)."""
    return Path(os.environ.get(LOCAL_DIR_VARIABLE, ".local")).resolve()


def get_spark(app_name: str = "mlops") -> SparkSession:
    """Return the active session, creating the local one on first use."""
    if on_databricks():
        # The cluster's session, as its owner configured it: the platform sets nothing.
        return SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    return local_spark(local_dir(), app_name)


def local_spark(
    root: Path,
    app_name: str = "mlops",
    cores: str = "*",
    *,
    short_lived: bool = False,
    long_running: bool = False,
) -> SparkSession:
    """Local Spark with Delta Lake and a persistent Derby metastore under `root`.

    The JVM compiles with C1 only: a local run lives for a minute or two on a laptop's
    few cores, and spends more CPU on C2's compilation than C2's code gives back (the
    whole local pipeline takes about 15% less time). `long_running=True` keeps C2, for a
    session that scores millions of rows (the benchmarks). Clusters are not affected.

    `short_lived=True` is for a session that lives as long as one test run: its tables
    are known to an in-memory catalog instead of the Derby metastore (nothing outside the
    process reads them, and starting Derby costs about 3 s). The Delta files are written
    as usual.
    """
    # Python UDF workers must run the interpreter that has the project installed.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    # ...and must import this package (scoring closures, the model's own classes) even
    # when it is not installed but only on sys.path, as under pytest or PYTHONPATH=src.
    package_parent = str(Path(__file__).resolve().parents[2])
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if package_parent not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([package_parent, *paths])
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    java_options = [f"-Dderby.system.home={root / 'derby'}"]
    if not long_running:
        java_options.append("-XX:TieredStopAtLevel=1")
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config(
            "spark.sql.catalog.spark_catalog",
            "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        )
        .config("spark.sql.warehouse.dir", str(root / "warehouse"))
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={root / 'metastore_db'};create=true",
        )
        .config("spark.driver.extraJavaOptions", " ".join(java_options))
        .config("spark.sql.session.timeZone", "UTC")
        # Small local data: a few shuffle partitions beat the default 200.
        .config("spark.sql.shuffle.partitions", "8")
        # Delta replays a table's log in 50 partitions by default: most of a small
        # table's read and write time here. (Local only: clusters keep their own.)
        .config("spark.databricks.delta.snapshotPartitions", "2")
        # VACUUM lists a table's files in this many tasks (default 10,000): 36 s for a
        # small local table, 3 s with 4.
        .config("spark.sql.sources.parallelPartitionDiscovery.parallelism", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .enableHiveSupport()
    )
    if short_lived:
        builder = builder.config("spark.sql.catalogImplementation", "in-memory")
    jars = os.environ.get(JARS_VARIABLE)
    if jars:
        builder = builder.config("spark.jars", jars)
    else:
        from delta import configure_spark_with_delta_pip

        builder = configure_spark_with_delta_pip(builder)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    quiet_known_noise(spark)
    return spark


# Loggers that report, at ERROR, things that are not errors for an embedded metastore:
# HiveAlterHandler on every overwrite of a Delta table it cannot alter in place.
NOISY_LOGGERS = ("org.apache.hadoop.hive.metastore.HiveAlterHandler",)


def quiet_known_noise(spark: SparkSession) -> None:
    jvm = spark.sparkContext._jvm
    level = jvm.org.apache.logging.log4j.Level.OFF
    for name in NOISY_LOGGERS:
        jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(name, level)
