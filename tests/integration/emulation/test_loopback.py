"""Every port the running emulation listens on is bound to loopback (issue 14).

Whoever reaches LocalStack's port can create and run Lambda code, so nothing may listen on another
interface: LocalStack's gateway (its own "twisted" server ignores GATEWAY_LISTEN's host; ours binds
it), the Glue service, and the Lambda executor's per-environment workers. Checked two ways on the
emulation `make test-integration` started, after one function has run (so workers exist): the
listening sockets of every process of the emulation (psutil), and a connection to each of this
machine's own non-loopback addresses on each of those ports, which must be refused.
"""
from __future__ import annotations

import io
import ipaddress
import json
import os
import socket
import subprocess
import sys
import zipfile

import boto3
import psutil
import pytest

REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
HANDLER = "import os\n\ndef handler(event, context):\n    return {'pid': os.getpid()}\n"


def _emulation_processes() -> list:
    result = subprocess.run([sys.executable, "-m", "localaws", "ps", "--format", "json"], capture_output=True,
                            text=True, timeout=60, check=True)
    services = {s["name"]: s["pid"] for s in json.loads(result.stdout)}
    assert {"localstack", "glue"} <= set(services), services
    family = []
    for pid in services.values():
        process = psutil.Process(pid)
        family += [process] + process.children(recursive=True)
    return family


def _listening(processes) -> set:
    """(ip, port) of every TCP socket the processes listen on."""
    found = set()
    for process in processes:
        try:
            connections = process.net_connections(kind="tcp")
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        found |= {(c.laddr.ip, c.laddr.port) for c in connections if c.status == psutil.CONN_LISTEN}
    return found


def _own_non_loopback_addresses() -> list:
    """This machine's own addresses other than loopback (link-local IPv6 left out: it needs a scope)."""
    addresses = []
    for entries in psutil.net_if_addrs().values():
        for entry in entries:
            if entry.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            address = ipaddress.ip_address(entry.address.split("%")[0])
            if not address.is_loopback and not address.is_link_local:
                addresses.append(address)
    return addresses


def _connect(address, port: int) -> bool:
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        try:
            sock.connect((str(address), port))
        except ConnectionRefusedError:
            return False
        return True


@pytest.fixture
def a_running_function(endpoint_url, unique_name):
    """A function invoked once, so the emulation has a live Lambda worker listening too."""
    client = boto3.client("lambda", endpoint_url=endpoint_url, region_name=REGION)
    name = unique_name("loopback")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", HANDLER)
    client.create_function(FunctionName=name, Runtime="python3.12", Handler="handler.handler",
                           Role="arn:aws:iam::000000000000:role/loopback-test", Code={"ZipFile": buffer.getvalue()})
    client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    response = client.invoke(FunctionName=name, Payload=b"{}")
    worker_pid = json.loads(response["Payload"].read())["pid"]
    yield worker_pid
    client.delete_function(FunctionName=name)


def test_every_emulator_port_listens_on_loopback_only(a_running_function):
    processes = _emulation_processes()
    assert a_running_function in {p.pid for p in processes}, "the function's worker is not part of the emulation"
    listening = _listening(processes)
    ports = {port for _, port in listening}
    assert len(ports) >= 3, f"expected LocalStack, Glue and a Lambda worker to listen: {sorted(listening)}"
    exposed = sorted((ip, port) for ip, port in listening if not ipaddress.ip_address(ip).is_loopback)
    assert exposed == [], f"listening beyond loopback: {exposed}"

    addresses = _own_non_loopback_addresses()
    if not addresses:
        pytest.skip("this machine has no non-loopback address to connect to")
    for ip, port in sorted(listening):
        assert _connect(ipaddress.ip_address(ip), port), f"control: nothing answers on {ip}:{port}"
    for port in sorted(ports):
        reachable = [str(address) for address in addresses if _connect(address, port)]
        assert reachable == [], f"port {port} accepts connections on {reachable}"
