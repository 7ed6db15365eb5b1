"""The service's own AWS access: clients of the local endpoint, and the S3 downloads a run needs
(``Command.ScriptLocation``, ``--extra-py-files``, ``--extra-jars``, ``s3://`` wheels of
``--additional-python-modules``) into its run directory."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .exceptions import AwsEndpointUnavailable, ExtraPyFileUnavailable, ModuleInstallFailed, ScriptNotFound

# Not a secret: the emulation accepts any credentials; these keep real ones out of job processes.
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}  # nosec B105


class LocalAws:
    """Clients of the local AWS endpoint (one per service and region) and downloads through them."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._clients: dict[tuple[str, str], object] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str):
        """A client of the local endpoint for ``service`` (also used by the service's event sender)."""
        with self._lock:
            key = (service, region)
            if key not in self._clients:
                # A session blind to the host's AWS_PROFILE and ~/.aws files: this service only ever
                # talks to the local endpoint, with dummy credentials.
                core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
                core.set_config_variable("config_file", os.devnull)
                core.set_config_variable("credentials_file", os.devnull)
                self._clients[key] = boto3.session.Session(botocore_session=core).client(
                    service,
                    endpoint_url=self.endpoint,
                    region_name=region,
                    aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                    aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                    config=Config(
                        retries={"max_attempts": 2, "mode": "standard"}, s3={"addressing_style": "path"}
                    ),
                )
            return self._clients[key]

    def unavailable(self, exc: Exception) -> AwsEndpointUnavailable:
        return AwsEndpointUnavailable(
            f"The local AWS endpoint {self.endpoint} did not answer ({exc}). Start LocalStack "
            f"(`make up`) or point LOCALAWS_GLUE_AWS_ENDPOINT at it, then start the job again."
        )

    def download(self, bucket: str, key: str, target: Path, region: str) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        body = self.client("s3", region).get_object(Bucket=bucket, Key=key)["Body"]
        with target.open("wb") as fh:
            shutil.copyfileobj(body, fh)

    def _fetch(self, bucket: str, key: str, target: Path, region: str,
               failure: Callable[[str], Exception]) -> None:
        """``download``; an S3 error (missing object, denied) raises ``failure(<what S3 said>)``, an
        endpoint that does not answer :meth:`unavailable`."""
        try:
            self.download(bucket, key, target, region)
        except ClientError as exc:
            raise failure(_describe(exc)) from None
        except BotoCoreError as exc:
            raise self.unavailable(exc) from None

    def fetch_script(self, location: str, run_dir: Path, region: str) -> Path:
        bucket, key = _parse_s3(location, "Command.ScriptLocation")
        target = run_dir / "glue-python-scripts" / (Path(key).name or "script.py")
        self._fetch(bucket, key, target, region, lambda problem: ScriptNotFound(
            f"Cannot fetch the job script {location}: {problem}. Upload the script there or fix "
            f"Command.ScriptLocation."
        ))
        return target

    def fetch_extra_py_files(self, value: str, run_dir: Path, region: str) -> list[str]:
        entries: list[str] = []
        folder = run_dir / "extra-py-files"
        for location in [v.strip() for v in value.split(",") if v.strip()]:
            bucket, key = _parse_s3(location, "--extra-py-files")
            suffix = Path(key).suffix.lower()
            if suffix not in (".py", ".zip", ".whl"):
                raise ExtraPyFileUnavailable(
                    f"--extra-py-files entry {location}: only .py, .zip and .whl are supported in "
                    f"Python shell 3.9 "
                    f"(AWS: no .egg files in Python 3.9+)."
                )
            target = folder / Path(key).name
            self._fetch(bucket, key, target, region, lambda problem, at=location: ExtraPyFileUnavailable(
                f"Cannot fetch --extra-py-files entry {at}: {problem}."
            ))
            # .py files are imported from their folder; .zip/.whl archives through zipimport.
            entry = str(folder) if suffix == ".py" else str(target)
            if entry not in entries:
                entries.append(entry)
        return entries

    def module_wheels(self, region: str) -> ModuleWheels:
        """The ``s3://`` wheels of ``--additional-python-modules``: their ETags and downloads."""
        return ModuleWheels(self, region)

    def fetch_extra_jars(self, value: str, run_dir: Path, region: str) -> list[str]:
        jars: list[str] = []
        for location in [v.strip() for v in value.split(",") if v.strip()]:
            bucket, key = _parse_s3(location, "--extra-jars")
            target = run_dir / "extra-jars" / Path(key).name
            self._fetch(bucket, key, target, region, lambda problem, at=location: ExtraPyFileUnavailable(
                f"Cannot fetch --extra-jars entry {at}: {problem}."
            ))
            jars.append(str(target))
        return jars


class ModuleWheels:
    """``s3://`` wheels of ``--additional-python-modules`` in one region (a ``module_cache.WheelStore``)."""

    def __init__(self, aws: LocalAws, region: str) -> None:
        self.aws, self.region = aws, region

    def etag(self, bucket: str, key: str) -> str | None:
        """HeadObject's ETag (the cache key needs no download); None when S3 refuses: the download
        that follows then fails naming what GetObject says (NoSuchKey, AccessDenied)."""
        try:
            return self.aws.client("s3", self.region).head_object(Bucket=bucket, Key=key).get("ETag")
        except ClientError:
            return None
        except BotoCoreError as exc:
            raise self.aws.unavailable(exc) from None

    def download(self, bucket: str, key: str, target: Path) -> None:
        self.aws._fetch(bucket, key, target, self.region, lambda problem: ModuleInstallFailed(
            f"Cannot fetch --additional-python-modules entry s3://{bucket}/{key}: {problem}. "
            f"Upload the wheel there or remove it from the job's arguments."
        ))


def _parse_s3(location: str, what: str) -> tuple[str, str]:
    parsed = urlparse(location)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
        raise ScriptNotFound(f"{what} {location!r} is not an s3://bucket/key URL.")
    return parsed.netloc, parsed.path.lstrip("/")


def _describe(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code', 'Error')} ({error.get('Message') or 'no message'})"
