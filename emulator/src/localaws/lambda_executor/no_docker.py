"""Host mode uses no Docker: tell LocalStack's Docker client so, before it probes for one.

On the host, LocalStack's Docker client is the ``docker`` command (``CmdDockerClient``). Whatever asks
whether Docker is there (the machine id computed on the first ``/_localstack/info``, an image
function's digest...) runs ``docker ps``. Where a ``docker`` command exists but no daemon answers, that
prints ``ERROR: '['docker', 'ps']': ... Cannot connect to the Docker daemon at
unix:///var/run/docker.sock`` into LocalStack's log: a host-mode user reads it as an instruction to
provide a Docker socket, which nothing here needs. With the local-process executor no LocalStack
feature this emulation serves uses Docker, so the client answers "no Docker" without probing, and
every caller takes the path LocalStack already has for that case.

Loaded by LocalStack as an ``on_infra_start`` hook (entry point in ``emulator/pyproject.toml``); it
does nothing unless ``LAMBDA_RUNTIME_EXECUTOR=local-process`` selects this package's executor (compose
mode runs LocalStack's Docker executor and keeps its Docker client).
"""
from __future__ import annotations

import os

from localstack.runtime import hooks


@hooks.on_infra_start(should_load=lambda: os.environ.get("LAMBDA_RUNTIME_EXECUTOR") == "local-process")
def use_no_docker_in_host_mode() -> None:
    from localstack.utils.container_utils.docker_cmd_client import CmdDockerClient
    from localstack.utils.patch import Patch

    def has_docker(self) -> bool:
        return False

    # A Patch on the attribute, not @patch on the method: LocalStack wraps it in functools.cache.
    Patch(CmdDockerClient, "has_docker", has_docker).apply()
