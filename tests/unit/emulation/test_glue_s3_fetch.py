"""localaws.glue.s3_fetch: the Glue service's clients of the local endpoint and a run's S3 downloads
(script, --extra-py-files, --extra-jars, s3:// wheels), with S3 replaced by an in-memory fake; every
error message asserted literally (issue 16)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from localaws.glue.exceptions import (AwsEndpointUnavailable, ExtraPyFileUnavailable, ModuleInstallFailed,
                                      ScriptNotFound)
from localaws.glue.s3_fetch import DUMMY_CREDENTIALS, LocalAws, ModuleWheels

ENDPOINT = "http://127.0.0.1:1"
DOWN = ("The local AWS endpoint http://127.0.0.1:1 did not answer (Could not connect to the endpoint URL: "
        "\"http://s3\"). Start LocalStack (`make up`) or point LOCALAWS_GLUE_AWS_ENDPOINT at it, then start the "
        "job again.")


class FakeS3:
    """get_object / head_object over a dict; a missing key is S3's NoSuchKey; ``down`` = no endpoint."""

    def __init__(self, objects: dict, down: bool = False) -> None:
        self.objects, self.down, self.calls = objects, down, []

    def _check(self, op: str, bucket: str, key: str) -> None:
        self.calls.append((op, bucket, key))
        if self.down:
            raise EndpointConnectionError(endpoint_url="http://s3")
        if (bucket, key) not in self.objects:
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist."}},
                              op)

    def get_object(self, Bucket: str, Key: str) -> dict:
        self._check("GetObject", Bucket, Key)
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}

    def head_object(self, Bucket: str, Key: str) -> dict:
        self._check("HeadObject", Bucket, Key)
        return {"ETag": '"etag-of-' + Key + '"', "ContentLength": len(self.objects[(Bucket, Key)])}


def _aws(s3: FakeS3, region: str = "eu-west-1") -> LocalAws:
    aws = LocalAws(ENDPOINT)
    aws._clients[("s3", region)] = s3
    return aws


def test_clients_reach_only_the_local_endpoint_with_dummy_credentials(monkeypatch, tmp_path):
    config = tmp_path / "config"
    config.write_text("[default]\ns3 =\n    payload_signing_enabled = true\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))  # the host's files and profile are ignored
    monkeypatch.setenv("AWS_PROFILE", "a-profile-that-does-not-exist")
    aws = LocalAws(ENDPOINT)
    assert aws.endpoint == ENDPOINT
    s3 = aws.client("s3", "eu-west-1")
    assert s3.meta.service_model.service_name == "s3"
    assert (s3.meta.endpoint_url, s3.meta.region_name) == (ENDPOINT, "eu-west-1")
    credentials = s3._request_signer._credentials
    assert (credentials.access_key, credentials.secret_key) == ("test", "test")
    assert DUMMY_CREDENTIALS == {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    assert s3.meta.config.s3 == {"addressing_style": "path"}
    assert s3.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
    # one client per (service, region), kept
    assert aws.client("s3", "eu-west-1") is s3
    other_region = aws.client("s3", "us-east-1")
    assert other_region is not s3 and other_region.meta.region_name == "us-east-1"
    logs = aws.client("logs", "eu-west-1")
    assert logs.meta.service_model.service_name == "logs" and logs.meta.region_name == "eu-west-1"
    assert sorted(aws._clients) == [("logs", "eu-west-1"), ("s3", "eu-west-1"), ("s3", "us-east-1")]


def test_the_script_is_downloaded_into_the_run_dir(tmp_path):
    s3 = FakeS3({("code", "jobs/train.py"): b"print('hi')\n"})
    target = _aws(s3).fetch_script("s3://code/jobs/train.py", tmp_path / "run", "eu-west-1")
    assert target == tmp_path / "run" / "glue-python-scripts" / "train.py"
    assert target.read_bytes() == b"print('hi')\n"
    assert s3.calls == [("GetObject", "code", "jobs/train.py")]


def test_a_missing_script_names_the_location_what_s3_said_and_the_fix(tmp_path):
    with pytest.raises(ScriptNotFound) as caught:
        _aws(FakeS3({})).fetch_script("s3://code/gone.py", tmp_path, "eu-west-1")
    assert str(caught.value) == ("Cannot fetch the job script s3://code/gone.py: NoSuchKey (The specified key does "
                                 "not exist.). Upload the script there or fix Command.ScriptLocation.")


def test_an_endpoint_that_does_not_answer_says_to_start_localstack(tmp_path):
    aws = _aws(FakeS3({}, down=True))
    for call in (lambda: aws.fetch_script("s3://code/a.py", tmp_path, "eu-west-1"),
                 lambda: aws.fetch_extra_py_files("s3://code/a.py", tmp_path, "eu-west-1"),
                 lambda: aws.fetch_extra_jars("s3://code/a.jar", tmp_path, "eu-west-1"),
                 lambda: aws.module_wheels("eu-west-1").etag("code", "a.whl"),
                 lambda: aws.module_wheels("eu-west-1").download("code", "a.whl", tmp_path / "a.whl")):
        with pytest.raises(AwsEndpointUnavailable) as caught:
            call()
        assert str(caught.value) == DOWN


@pytest.mark.parametrize("location", ["https://code/a.py", "s3:///a.py", "s3://code", "s3://code/", "code/a.py"])
def test_a_location_that_is_not_an_s3_url_is_refused(tmp_path, location):
    with pytest.raises(ScriptNotFound) as caught:
        _aws(FakeS3({})).fetch_script(location, tmp_path, "eu-west-1")
    assert str(caught.value) == f"Command.ScriptLocation {location!r} is not an s3://bucket/key URL."
    with pytest.raises(ScriptNotFound) as caught:
        _aws(FakeS3({})).fetch_extra_jars(location, tmp_path, "eu-west-1")
    assert str(caught.value) == f"--extra-jars {location!r} is not an s3://bucket/key URL."


def test_extra_py_files_py_by_folder_archives_by_path_in_order(tmp_path):
    s3 = FakeS3({("code", "lib/a.py"): b"A = 1\n", ("code", "lib/b.PY"): b"B = 1\n", ("code", "z/c.zip"): b"zip",
                 ("code", "w/d-1.0-py3-none-any.whl"): b"whl"})
    entries = _aws(s3).fetch_extra_py_files(
        " s3://code/lib/a.py, ,s3://code/z/c.zip,s3://code/lib/b.PY ,s3://code/w/d-1.0-py3-none-any.whl,",
        tmp_path, "eu-west-1")
    folder = tmp_path / "extra-py-files"
    assert entries == [str(folder), str(folder / "c.zip"), str(folder / "d-1.0-py3-none-any.whl")]
    assert (folder / "a.py").read_bytes() == b"A = 1\n" and (folder / "b.PY").read_bytes() == b"B = 1\n"
    assert (folder / "c.zip").read_bytes() == b"zip"
    assert [c[2] for c in s3.calls] == ["lib/a.py", "z/c.zip", "lib/b.PY", "w/d-1.0-py3-none-any.whl"]
    assert _aws(s3).fetch_extra_py_files("", tmp_path, "eu-west-1") == []


def test_extra_py_files_refuse_eggs_and_name_a_missing_entry(tmp_path):
    with pytest.raises(ExtraPyFileUnavailable) as caught:
        _aws(FakeS3({})).fetch_extra_py_files("s3://code/x.egg", tmp_path, "eu-west-1")
    assert str(caught.value) == ("--extra-py-files entry s3://code/x.egg: only .py, .zip and .whl are supported "
                                 "in Python shell 3.9 (AWS: no .egg files in Python 3.9+).")
    with pytest.raises(ExtraPyFileUnavailable) as caught:
        _aws(FakeS3({("code", "a.py"): b""})).fetch_extra_py_files("s3://code/a.py,s3://code/gone.zip", tmp_path,
                                                                    "eu-west-1")
    assert str(caught.value) == ("Cannot fetch --extra-py-files entry s3://code/gone.zip: NoSuchKey (The "
                                 "specified key does not exist.).")
    with pytest.raises(ScriptNotFound) as caught:
        _aws(FakeS3({})).fetch_extra_py_files("s3://code", tmp_path, "eu-west-1")
    assert str(caught.value) == "--extra-py-files 's3://code' is not an s3://bucket/key URL."


def test_extra_jars_in_order_and_a_missing_one_named(tmp_path):
    s3 = FakeS3({("j", "a/x.jar"): b"x", ("j", "y.jar"): b"y"})
    jars = _aws(s3).fetch_extra_jars("s3://j/a/x.jar, s3://j/y.jar,", tmp_path, "eu-west-1")
    assert jars == [str(tmp_path / "extra-jars" / "x.jar"), str(tmp_path / "extra-jars" / "y.jar")]
    assert (tmp_path / "extra-jars" / "y.jar").read_bytes() == b"y"
    assert _aws(s3).fetch_extra_jars("", tmp_path, "eu-west-1") == []
    with pytest.raises(ExtraPyFileUnavailable) as caught:
        _aws(s3).fetch_extra_jars("s3://j/y.jar,s3://j/gone.jar", tmp_path, "eu-west-1")
    assert str(caught.value) == "Cannot fetch --extra-jars entry s3://j/gone.jar: NoSuchKey (The specified key does not exist.)."


def test_module_wheels_etag_without_download_and_the_download(tmp_path):
    s3 = FakeS3({("w", "p/m-1.0-py3-none-any.whl"): b"wheel"})
    wheels = _aws(s3, "ap-south-1").module_wheels("ap-south-1")
    assert isinstance(wheels, ModuleWheels) and wheels.region == "ap-south-1"
    assert wheels.etag("w", "p/m-1.0-py3-none-any.whl") == '"etag-of-p/m-1.0-py3-none-any.whl"'
    assert s3.calls == [("HeadObject", "w", "p/m-1.0-py3-none-any.whl")]
    assert wheels.etag("w", "gone.whl") is None  # S3 refuses: the download that follows names why
    wheels.download("w", "p/m-1.0-py3-none-any.whl", tmp_path / "d" / "m.whl")
    assert (tmp_path / "d" / "m.whl").read_bytes() == b"wheel"
    with pytest.raises(ModuleInstallFailed) as caught:
        wheels.download("w", "gone.whl", tmp_path / "g.whl")
    assert str(caught.value) == ("Cannot fetch --additional-python-modules entry s3://w/gone.whl: NoSuchKey (The "
                                 "specified key does not exist.). Upload the wheel there or remove it from the "
                                 "job's arguments.")


@pytest.mark.parametrize(("error", "said"), [
    ({"Code": "AccessDenied", "Message": "Access Denied"}, "AccessDenied (Access Denied)"),
    ({"Code": "AccessDenied", "Message": ""}, "AccessDenied (no message)"),
    ({"Code": "AccessDenied"}, "AccessDenied (no message)"),
    ({"Message": "boom"}, "Error (boom)"),
    ({}, "Error (no message)"),
])
def test_what_s3_said_is_its_code_and_message(tmp_path, error, said):
    class Refusing(FakeS3):
        def get_object(self, Bucket, Key):
            raise ClientError({"Error": error} if error else {}, "GetObject")

    with pytest.raises(ScriptNotFound) as caught:
        _aws(Refusing({})).fetch_script("s3://b/k.py", tmp_path, "eu-west-1")
    assert str(caught.value) == f"Cannot fetch the job script s3://b/k.py: {said}. Upload the script there or fix " \
                                "Command.ScriptLocation."


def test_the_download_goes_through_the_runs_region(tmp_path):
    s3 = FakeS3({("b", "k.py"): b"x"})
    aws = _aws(s3, "sa-east-1")
    aws.fetch_script("s3://b/k.py", tmp_path, "sa-east-1")
    assert s3.calls == [("GetObject", "b", "k.py")]
    assert Path(tmp_path / "glue-python-scripts" / "k.py").exists()


def test_keys_keep_their_characters_and_a_dot_key_gets_a_script_name(tmp_path):
    s3 = FakeS3({("code", "X"): b"x", ("code", "Xjob.py"): b"y", ("code", "."): b"z"})
    assert _aws(s3).fetch_script("s3://code/X", tmp_path, "eu-west-1").read_bytes() == b"x"
    assert _aws(s3).fetch_script("s3://code/Xjob.py", tmp_path, "eu-west-1").name == "Xjob.py"
    assert _aws(s3).fetch_script("s3://code/.", tmp_path, "eu-west-1") == tmp_path / "glue-python-scripts" / "script.py"
    assert [c[2] for c in s3.calls] == ["X", "Xjob.py", "."]
