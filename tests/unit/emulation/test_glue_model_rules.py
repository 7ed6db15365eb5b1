"""localaws.glue.models: Glue's rules for job definitions and run capacities, each with the exact
defaults and error messages a client sees (issue 16: the mutation run found them unasserted)."""

from __future__ import annotations

import pytest
from localaws.glue import models
from localaws.glue.exceptions import InvalidInputException

SHELL = {"Name": "pythonshell", "ScriptLocation": "s3://b/job.py"}


def _job(name: str) -> models.Job:
    return models.Job("j", models.apply_job_defaults({"Role": "r", "Command": {"Name": name,
                                                                               "ScriptLocation": "s3://b/k"}}),
                      0.0, 0.0)


def _rejects(call, message: str) -> None:
    with pytest.raises(InvalidInputException) as caught:
        call()
    assert caught.value.message == message
    assert str(caught.value) == message


def test_a_spark_job_gets_every_glue_default_and_the_input_is_not_touched():
    definition = {"Role": "r", "Command": {"ScriptLocation": "s3://b/job.py"}, "Tags": {"team": "x"}}
    spec = models.apply_job_defaults(definition)
    assert spec == {
        "Role": "r",
        "Command": {"ScriptLocation": "s3://b/job.py", "Name": "glueetl"},
        "Timeout": 2880,
        "MaxRetries": 0,
        "GlueVersion": "0.9",
        "JobMode": "SCRIPT",
        "ExecutionProperty": {"MaxConcurrentRuns": 1},
    }
    # a deep copy: neither the caller's dict nor its nested Command changes
    assert definition == {"Role": "r", "Command": {"ScriptLocation": "s3://b/job.py"}, "Tags": {"team": "x"}}


def test_a_python_shell_job_defaults_to_python_3_and_a_sixteenth_of_a_dpu():
    spec = models.apply_job_defaults({"Command": dict(SHELL)})
    assert spec["Command"] == {"Name": "pythonshell", "ScriptLocation": "s3://b/job.py", "PythonVersion": "3"}
    assert spec["MaxCapacity"] == 0.0625
    assert spec["JobMode"] == "SCRIPT" and spec["Timeout"] == 2880 and spec["MaxRetries"] == 0


def test_given_values_are_kept():
    spec = models.apply_job_defaults({
        "Command": {**SHELL, "PythonVersion": "3.9"}, "MaxCapacity": 1.0, "Timeout": 10080, "MaxRetries": 2,
        "GlueVersion": "3.0", "JobMode": "VISUAL", "ExecutionProperty": {"MaxConcurrentRuns": 7}})
    assert spec["Command"]["PythonVersion"] == "3.9"
    assert (spec["MaxCapacity"], spec["Timeout"], spec["MaxRetries"], spec["GlueVersion"], spec["JobMode"]) == (
        1.0, 10080, 2, "3.0", "VISUAL")
    assert spec["ExecutionProperty"] == {"MaxConcurrentRuns": 7}
    assert models.apply_job_defaults({"Command": dict(SHELL), "Timeout": 1})["Timeout"] == 1


@pytest.mark.parametrize(("definition", "message"), [
    ({}, "Command.ScriptLocation is required."),
    ({"Command": {"Name": "pythonshell"}}, "Command.ScriptLocation is required."),
    ({"Command": dict(SHELL), "WorkerType": "G.1X"},
     "WorkerType and NumberOfWorkers are not supported for pythonshell jobs; use MaxCapacity."),
    ({"Command": dict(SHELL), "NumberOfWorkers": 2},
     "WorkerType and NumberOfWorkers are not supported for pythonshell jobs; use MaxCapacity."),
    ({"Command": dict(SHELL), "MaxCapacity": 0.5}, "MaxCapacity for a pythonshell job must be 0.0625 or 1.0."),
    ({"Command": dict(SHELL), "Timeout": 0}, "Timeout must be between 1 and 10080 minutes."),
    ({"Command": dict(SHELL), "Timeout": 10081}, "Timeout must be between 1 and 10080 minutes."),
    ({"Command": dict(SHELL), "ExecutionProperty": {"MaxConcurrentRuns": 0}},
     "ExecutionProperty.MaxConcurrentRuns must be at least 1."),
])
def test_a_definition_breaking_a_rule_is_refused_with_glues_message(definition, message):
    _rejects(lambda: models.apply_job_defaults(definition), message)


def test_run_capacity_rules_of_a_python_shell_job():
    job = _job("pythonshell")
    for params in ({}, {"MaxCapacity": 1.0}, {"AllocatedCapacity": 0.0625}, {"MaxCapacity": "0.0625"}):
        models.check_run_capacity(job, params)  # accepted
    _rejects(lambda: models.check_run_capacity(job, {"AllocatedCapacity": 1, "MaxCapacity": 1.0}),
             "Please set only Allocated Capacity or Max Capacity.")
    for params in ({"WorkerType": "G.1X"}, {"NumberOfWorkers": 2}):
        _rejects(lambda: models.check_run_capacity(job, params),
                 "WorkerType and NumberOfWorkers are not supported for pythonshell jobs; use MaxCapacity.")
    for params in ({"MaxCapacity": 2.0}, {"AllocatedCapacity": 2}):  # the deprecated name is checked too
        _rejects(lambda: models.check_run_capacity(job, params),
                 "MaxCapacity for a pythonshell job must be 0.0625 or 1.0.")


def test_run_capacity_rules_of_a_spark_job():
    job = _job("glueetl")
    for params in ({}, {"MaxCapacity": 10.0}, {"WorkerType": "G.1X", "NumberOfWorkers": 2},
                   {"AllocatedCapacity": 5}):
        models.check_run_capacity(job, params)
    message = "Do not set MaxCapacity together with WorkerType and NumberOfWorkers."
    for params in ({"MaxCapacity": 10.0, "WorkerType": "G.1X"}, {"MaxCapacity": 10.0, "NumberOfWorkers": 2}):
        _rejects(lambda: models.check_run_capacity(job, params), message)
    _rejects(lambda: models.check_run_capacity(job, {"AllocatedCapacity": 5, "MaxCapacity": 10.0}),
             "Please set only Allocated Capacity or Max Capacity.")


@pytest.mark.parametrize("name", [" job", "job ", "a\nb", "a\rb", "a\tb", "job\n"])
def test_a_job_name_with_spaces_around_or_line_breaks_is_refused(name):
    _rejects(lambda: models.validate_name(name),
             f"Invalid job name {name!r}: no leading/trailing spaces or line breaks.")


@pytest.mark.parametrize("name", ["job", "eXport XX job", "a b"])
def test_a_single_line_job_name_is_accepted(name):
    models.validate_name(name)
