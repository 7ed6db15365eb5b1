"""`cripto logs` prints every message as written: square brackets in a JSON line are text, not rich markup."""
import json

from click.testing import CliRunner

from cripto_ops import cli
from cripto_ops.stack import StackOutputs

STACK = StackOutputs("bucket", "feat-fn", "trig-fn", "job", raw={})


class _FakeLogs:
    """filter_log_events of one feature-Lambda line; every other group does not exist yet."""

    class exceptions:  # noqa: N801 - shaped like a boto3 client's exceptions attribute
        class ResourceNotFoundException(Exception):
            pass

    def __init__(self, message: str) -> None:
        self.message = message

    def get_paginator(self, name: str):
        assert name == "filter_log_events"
        return self

    def paginate(self, logGroupName: str, startTime: int):  # noqa: N803 - boto3's parameter names
        if logGroupName != "/aws/lambda/feat-fn":
            raise self.exceptions.ResourceNotFoundException(logGroupName)
        return [{"events": [{"eventId": "1", "timestamp": startTime + 1000, "logStreamName": "2026/12/01/abc",
                             "message": self.message + "\n"}]}]


def test_logs_prints_messages_verbatim(monkeypatch):
    message = json.dumps({"level": "ERROR", "message": "bad cell [bold]x[/x] in row [3]", "key": "raw/[a].csv"})
    monkeypatch.setattr(cli, "_stack", lambda ctx: STACK)
    monkeypatch.setattr(cli, "_client", lambda ctx, service: _FakeLogs(message))
    result = CliRunner().invoke(cli.main, ["logs", "feature", "--since", "10m"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    assert line.endswith(" " + message) and "/aws/lambda/feat-fn 2026/12/01/abc" in line
