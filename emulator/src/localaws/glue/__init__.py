"""A Glue-compatible service: the AWS Glue JSON API for jobs and job runs, executing ``pythonshell``
jobs as local processes in an AWS Glue Python shell 3.9-like environment.

Layers (like moto's services): ``app`` (routes) -> ``responses`` (parse/validate/serialise with
botocore's Glue model) -> ``models`` (Job, JobRun, the backend and its run state machine) ->
``exceptions``; ``runner`` executes runs, ``cloudwatch`` ships their logs. Start it with
``python -m localaws.glue``; settings are in ``localaws.glue.config``.
"""
