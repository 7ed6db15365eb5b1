"""A Glue-compatible service: the AWS Glue JSON API for jobs and job runs, executing ``pythonshell``
jobs as local processes in an AWS Glue Python shell 3.9-like environment (and Glue 5.0 ``glueetl``
jobs with PySpark in local mode).

Layers (like moto's services): ``app`` (routes) -> ``responses`` (parse/validate/serialise with
botocore's Glue model) -> ``backend`` (the state and its rules) over ``models`` (Job, JobRun, the run
state machine) -> ``exceptions``. ``runner`` executes runs with ``s3_fetch`` (downloads),
``module_cache`` (``--additional-python-modules``), ``job_env`` (argv, environment, runtime dir),
``supervision`` (the child process) and ``spark`` (glueetl); ``cloudwatch`` ships their logs,
``events`` announces state changes. Start it with ``python -m localaws.glue``; settings are in
``localaws.glue.config``.
"""
