"""Glue Spark jobs (``Command.Name = "glueetl"``, ``GlueVersion = "5.0"``) run with PySpark in local mode.

The run goes through :class:`~localaws.glue.runner.JobRunner` exactly like a Python-shell run (script
fetch, ``--additional-python-modules``, ``--extra-py-files``, Glue's argv, log streaming, Timeout, stop,
restart recovery, the one terminal-state transition); this module supplies what differs:

- the interpreter: the ``glue-spark-5.0`` environment (Python 3.11 + pyspark 3.5.4, Glue 5.0's versions);
- a Spark configuration in ``<run dir>/spark-conf/spark-defaults.conf`` (``SPARK_CONF_DIR``), which
  ``spark-submit`` reads when the script's ``SparkSession.builder.getOrCreate()`` starts the JVM:
  ``local[N]`` master, driver memory, the S3A jars, ``s3://``/``s3a://`` bound to S3A against the
  emulation's S3 (endpoint, path style, no SSL, dummy static credentials: nothing reaches real AWS),
  scratch space inside the run dir, no Spark UI, then the job's ``--conf`` entries;
- the capacity: ``WorkerType`` x ``NumberOfWorkers`` (or ``MaxCapacity``) -> local threads and memory,
  bounded by this machine (:func:`capacity`), and the billed DPUs (the backend turns them into the
  run's DPUSeconds: Glue 5.0 bills per second with a 1-minute minimum);
- an ``awsglue`` package on the job's path with AWS's own ``utils.py``/``job.py`` (``getResolvedOptions``)
  and ``awsglue.context`` / ``awsglue.dynamicframe`` / ``awsglue.transforms`` modules that fail on import
  with the reason (AWS's GlueContext/DynamicFrame are closed libraries; plain PySpark is supported).

The JVM is a child of the job's Python process, in its process group, so the runner's kill of that
group (timeout, stop, service shutdown, orphan reaping after a restart) ends the JVM too.
"""

from __future__ import annotations

import math
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from .exceptions import RuntimeSetupFailed, UnsupportedJobCommand
from .models import GLUE_ETL, SPARK_LOG_GROUP

SPARK_GLUE_VERSIONS = ("5.0",)
OUTPUT_LOG_GROUP = f"{SPARK_LOG_GROUP}/output"  # driver stdout, stream = JobRunId
ERROR_LOG_GROUP = f"{SPARK_LOG_GROUP}/error"  # driver stderr (Spark's log4j and tracebacks)
S3A_JARS = ("hadoop-aws-3.3.1.jar", "aws-java-sdk-bundle-1.11.901.jar")
# AWS Glue worker types: (DPUs per worker, vCPUs per worker, GiB of memory per worker).
# https://docs.aws.amazon.com/glue/latest/dg/add-job.html ("Worker type").
WORKER_TYPES = {
    "G.025X": (0.25, 2, 4),
    "G.1X": (1.0, 4, 16),
    "G.2X": (2.0, 8, 32),
    "G.4X": (4.0, 16, 64),
    "G.8X": (8.0, 32, 128),
    "Standard": (1.0, 4, 16),
}
DPU_VCPUS, DPU_GIB = 4, 16  # one DPU (MaxCapacity) = 4 vCPU, 16 GB
DEFAULT_SPARK_DPUS = 10.0  # Glue's default MaxCapacity for a Spark job that gives no capacity
MEMORY_SHARE = 4  # a run's driver gets at most 1/MEMORY_SHARE of this machine's RAM
MIN_MEMORY_MIB = 512
# Special parameters that configure AWS infrastructure with no local counterpart: accepted, logged.
IGNORED_PARAMETERS = (
    "--enable-metrics",
    "--enable-continuous-cloudwatch-log",
    "--enable-continuous-log-filter",
    "--enable-spark-ui",
    "--spark-event-logs-path",
    "--enable-observability-metrics",
    "--enable-job-insights",
    "--enable-auto-scaling",
    "--enable-glue-datacatalog",
    "--job-bookmark-option",
)
PROTECTED_CONF_PREFIX = "spark.hadoop.fs.s3"  # keeps every s3:// access on the emulation's S3

_FAIL_ON_IMPORT = '''"""Not available in the local Glue emulation (raises on import)."""

raise ImportError(
    "awsglue.{name} is part of AWS Glue's own Spark libraries (GlueContext, DynamicFrame, Glue "
    "transforms), which AWS does not publish on any package registry, so the local Glue emulation "
    "cannot provide it. Write the job with plain PySpark (SparkSession, DataFrame; spark.read/"
    "df.write on s3:// paths) and awsglue.utils.getResolvedOptions for arguments: AWS Glue runs such "
    "scripts unchanged."
)
'''


@dataclass(frozen=True)
class Capacity:
    """What a run gets locally, and what it would be billed on AWS."""

    worker_type: str | None
    number_of_workers: int | None
    dpus: float  # billed DPUs on AWS
    glue_vcpus: int  # vCPUs the run has on AWS
    glue_memory_mib: int
    local_threads: int  # Spark local[N]
    driver_memory_mib: int

    def describe(self) -> str:
        shape = (
            f"{self.number_of_workers} x {self.worker_type}"
            if self.worker_type
            else f"MaxCapacity {self.dpus:g} DPU"
        )
        return (
            f"{shape} = {self.dpus:g} DPU ({self.glue_vcpus} vCPU, {self.glue_memory_mib // 1024} GiB on AWS) "
            f"-> local[{self.local_threads}], driver memory {self.driver_memory_mib} MiB on this machine"
        )


def capacity(
    worker_type: str | None,
    number_of_workers: int | None,
    max_capacity: float | None,
    cpus: int | None = None,
    memory_mib: int | None = None,
) -> Capacity:
    """Map Glue capacity to local Spark: threads = min(Glue vCPUs, CPUs here); memory = min(Glue memory,
    a quarter of this machine's RAM), at least 512 MiB."""
    if worker_type:
        if worker_type not in WORKER_TYPES:
            raise UnsupportedJobCommand(
                f"WorkerType {worker_type!r} is not known to this Glue emulation "
                f"(known: {', '.join(WORKER_TYPES)})."
            )
        workers = int(number_of_workers or 0)
        if workers < 1:
            raise UnsupportedJobCommand(f"WorkerType {worker_type} needs NumberOfWorkers >= 1.")
        per_dpu, per_vcpu, per_gib = WORKER_TYPES[worker_type]
        dpus, vcpus, gib = per_dpu * workers, per_vcpu * workers, per_gib * workers
    else:
        workers = None
        dpus = float(max_capacity) if max_capacity else DEFAULT_SPARK_DPUS
        vcpus, gib = math.ceil(dpus * DPU_VCPUS), math.ceil(dpus * DPU_GIB)
    cpus = cpus or os.cpu_count() or 1
    memory_mib = memory_mib or _machine_memory_mib()
    return Capacity(
        worker_type=worker_type or None,
        number_of_workers=workers,
        dpus=dpus,
        glue_vcpus=vcpus,
        glue_memory_mib=gib * 1024,
        local_threads=max(1, min(vcpus, cpus)),
        driver_memory_mib=max(MIN_MEMORY_MIB, min(gib * 1024, memory_mib // MEMORY_SHARE)),
    )


def _machine_memory_mib() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    except (ValueError, OSError, AttributeError):
        return 4096


def is_spark(command: dict) -> bool:
    return command.get("Name") == GLUE_ETL


def check_glue_version(glue_version: str | None) -> None:
    if glue_version not in SPARK_GLUE_VERSIONS:
        raise UnsupportedJobCommand(
            f"glueetl jobs with GlueVersion {glue_version!r} are not emulated: only GlueVersion "
            f"{', '.join(SPARK_GLUE_VERSIONS)} (Spark 3.5.4, Python 3.11) runs locally. Set GlueVersion "
            f"to \"5.0\"."
        )


def s3a_jars(python: str) -> list[str]:
    """The S3A jars bootstrap stores in ``<environment>/jars`` (checksums verified there)."""
    folder = Path(python).parent.parent / "jars"
    jars = [folder / name for name in S3A_JARS]
    missing = [str(j) for j in jars if not j.is_file()]
    if missing:
        raise RuntimeSetupFailed(
            f"The S3A connector jars are missing ({', '.join(missing)}): run "
            f"`ONLY=glue-spark-5.0 scripts/bootstrap.sh`, which fetches and verifies them."
        )
    return [str(j) for j in jars]


def add_awsglue_modules(runtime: Path) -> None:
    """Complete the awsglue stub of a Spark runtime dir: closed modules fail on import with the reason."""
    package = runtime / "awsglue"
    (package / "__init__.py").write_text(
        '"""awsglue stub for local Glue Spark jobs: utils and job are AWS\'s own (awsglue-dev)."""\n'
    )
    for name in ("context", "dynamicframe", "gluetypes", "glue_shell"):
        (package / f"{name}.py").write_text(_FAIL_ON_IMPORT.replace("{name}", name))
    transforms = package / "transforms"
    transforms.mkdir(exist_ok=True)
    (transforms / "__init__.py").write_text(_FAIL_ON_IMPORT.replace("{name}", "transforms"))


def parse_conf(value: str) -> list[tuple[str, str]]:
    """Glue's ``--conf`` value: ``k=v`` or ``k=v --conf k2=v2 ...`` (how AWS documents several)."""
    pairs = []
    for item in shlex.split(value):
        if item == "--conf":
            continue
        key, sep, val = item.partition("=")
        if not sep or not key:
            raise UnsupportedJobCommand(f"--conf entry {item!r} is not key=value.")
        pairs.append((key.strip(), val.strip()))
    return pairs


def spark_defaults(
    cap: Capacity,
    jars: list[str],
    s3_endpoint: str,
    run_dir: Path,
    conf: list[tuple[str, str]],
) -> str:
    """The spark-defaults.conf of one run."""
    scratch = run_dir / "tmp"
    settings = [
        ("spark.master", f"local[{cap.local_threads}]"),
        ("spark.driver.memory", f"{cap.driver_memory_mib}m"),
        ("spark.jars", ",".join(jars)),
        ("spark.ui.enabled", "false"),
        ("spark.ui.showConsoleProgress", "false"),
        ("spark.local.dir", str(scratch)),
        ("spark.driver.extraJavaOptions", f"-Djava.io.tmpdir={scratch}"),
        ("spark.sql.shuffle.partitions", str(max(2, cap.local_threads * 2))),
        ("spark.sql.warehouse.dir", str(run_dir / "spark-warehouse")),
        ("spark.driver.host", "127.0.0.1"),
        ("spark.driver.bindAddress", "127.0.0.1"),
    ]
    for scheme in ("s3", "s3a", "s3n"):
        settings.append((f"spark.hadoop.fs.{scheme}.impl", "org.apache.hadoop.fs.s3a.S3AFileSystem"))
    settings += [
        ("spark.hadoop.fs.s3a.endpoint", s3_endpoint),
        ("spark.hadoop.fs.s3a.path.style.access", "true"),
        ("spark.hadoop.fs.s3a.connection.ssl.enabled", str(s3_endpoint.startswith("https")).lower()),
        ("spark.hadoop.fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"),
        ("spark.hadoop.fs.s3a.access.key", "test"),
        ("spark.hadoop.fs.s3a.secret.key", "test"),
        ("spark.hadoop.fs.s3a.change.detection.mode", "none"),
        ("spark.hadoop.fs.s3a.buffer.dir", str(scratch)),
        ("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false"),
    ]
    # The job's --conf come last; the S3 endpoint/credential keys cannot be set by it.
    lines = [f"{k} {v}" for k, v in settings]
    lines += [f"{k} {v}" for k, v in conf if not k.startswith(PROTECTED_CONF_PREFIX)]
    return "\n".join(lines) + "\n"


def spark_env(run_dir: Path, python: str, conf_dir: Path) -> dict[str, str]:
    env = {
        "SPARK_CONF_DIR": str(conf_dir),
        "PYSPARK_PYTHON": python,
        "PYSPARK_DRIVER_PYTHON": python,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOCAL_DIRS": str(run_dir / "tmp"),
    }
    if os.environ.get("JAVA_HOME"):
        env["JAVA_HOME"] = os.environ["JAVA_HOME"]
    return env
