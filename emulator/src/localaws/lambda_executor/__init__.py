"""A Docker-less Lambda runtime executor for LocalStack (``LAMBDA_RUNTIME_EXECUTOR=local-process``).

Each Lambda execution environment is a subprocess of the interpreter configured for the
function's runtime, running :mod:`localaws.lambda_executor.worker`, which speaks LocalStack's
executor-endpoint protocol (the one LocalStack's Go init speaks inside Docker containers).

LocalStack settings it needs::

    LAMBDA_RUNTIME_EXECUTOR=local-process        # else LocalStack silently falls back to docker
    LOCALAWS_LAMBDA_RUNTIME_PYTHON3_12=<python>  # one per runtime: LOCALAWS_LAMBDA_RUNTIME_<RUNTIME>
                                                 # (upper-cased, dots as underscores)

Optional, LocalStack's own: ``LAMBDA_RETRY_BASE_DELAY`` (seconds; AWS-like 60 by default, set 1 in
tests of async retries), ``LAMBDA_KEEPALIVE_MS`` (idle environments are stopped after it),
``LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT`` (seconds allowed for a function's init), ``HOSTNAME_FROM_LAMBDA``.

How an environment compares with AWS's:

- interpreter: the configured one, started with ``-s -u``; functions see the standard library and
  that interpreter's site-packages (boto3/botocore) only. The environment is built from scratch
  (nothing leaks from LocalStack's process, e.g. its ``PYTHONPATH``), as LocalStack computes it for
  the function: role credentials, ``AWS_ENDPOINT_URL``, ``_HANDLER``, ``AWS_LAMBDA_*``, the
  function's variables. Added: ``LAMBDA_TASK_ROOT`` (the unzipped code), ``TMPDIR`` (a private,
  per-environment directory, removed on stop), ``HOME`` (also private) and
  ``LOCALAWS_LAMBDA_EXECUTOR=local-process``.
- ``sys.path``: code directory, then ``<opt>/python/lib/pythonX.Y/site-packages``, ``<opt>/python``,
  then the interpreter's own paths, as on AWS. ``<opt>`` is the layers merged in declared order,
  later layers overwriting earlier ones path by path (see :mod:`.layers`).
- errors: handler exceptions as ``{errorMessage, errorType, requestId, stackTrace}``; init failures as
  ``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``, ``Runtime.UserCodeSyntaxError``... (retried
  on the next invocation); ``Sandbox.Timedout`` "Task timed out after N.NN seconds" (the process
  group is killed, the next invocation starts a fresh one); ``Runtime.ExitError`` if the runtime dies.
- logs: stdout/stderr of the whole process group, plus ``START``/``END``/``REPORT`` lines, go to
  CloudWatch ``/aws/lambda/<function>`` (LocalStack writes them).
- lifetime: stop() SIGKILLs the process group; if LocalStack itself dies (even by SIGKILL) the worker
  notices through a pipe, removes its directory and kills its group: no orphans.

Also: hot reload (code from a local folder, the ``hot-reload`` bucket marker: an edit restarts the
runtime before the next invocation, see :mod:`.hot_reload`); functions in ``Failed`` can be updated and
deleted (:mod:`.failed_versions`); LocalStack is told there is no Docker (:mod:`.no_docker`).

Not emulated: memory limits (``MemorySize`` is reported, not enforced), a read-only file system and
a literal ``/tmp`` (code writing to the path ``/tmp`` writes to the host's), ``AWS_LAMBDA_LOG_FORMAT=JSON``,
non-Python runtimes and container-image functions (both fail to become Active, with the reason).
Processes a handler detaches into a new session (``setsid``) escape the kill.

Modules: ``plugin`` (plux entry point, loads ``executor`` lazily), ``executor`` (the
``RuntimeExecutor``), ``environment`` (a worker's environment and ``sys.path``), ``invocation_errors``
(timeouts and runtime exits the executor reports), ``worker`` (stdlib-only runtime, runs in the
function's interpreter), ``config`` (the variables it reads, and how the launcher writes them),
``runtimes`` (interpreter per runtime), ``admission`` (refuses functions without a local runtime),
``failed_versions`` and ``no_docker`` (LocalStack hooks), ``hot_reload``, ``layers`` (``/opt``
equivalent), ``exceptions``.
"""
