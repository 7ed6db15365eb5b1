"""Start-up hook of Glue job processes run by localaws (copied onto the job's PYTHONPATH).

Why: AWS Glue Python shell 3.9 ships botocore 1.24.21, which predates botocore 1.31's support for
``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>``. Without this hook every boto3 client a job
creates (directly or through awswrangler, s3fs, pyathena...) would ignore the local endpoint the
service injects and call real AWS. This backports that lookup: a client created without an explicit
``endpoint_url`` gets ``AWS_ENDPOINT_URL_<SERVICE_ID>`` (service id upper-cased, spaces as
underscores, e.g. ``AWS_ENDPOINT_URL_CLOUDWATCH_LOGS``) or else ``AWS_ENDPOINT_URL``. With a newer
botocore (e.g. from --additional-python-modules) it resolves to the same URL botocore would pick.

botocore is patched when it is first imported (a meta-path hook), so jobs that never use it pay nothing.
"""

import importlib.machinery
import inspect
import os
import sys

_TARGET = "botocore.args"


def _endpoint_from_env(service_model):
    service_id = str(service_model.service_id).replace(" ", "_").upper()
    return os.environ.get("AWS_ENDPOINT_URL_" + service_id) or os.environ.get("AWS_ENDPOINT_URL")


def _patch(module):
    original = module.ClientArgsCreator.compute_client_args
    signature = inspect.signature(original)
    if "endpoint_url" not in signature.parameters or "service_model" not in signature.parameters:
        return  # an unknown botocore layout: leave it alone rather than break every client

    def compute_client_args(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        if not bound.arguments.get("endpoint_url"):
            bound.arguments["endpoint_url"] = _endpoint_from_env(bound.arguments["service_model"])
        return original(*bound.args, **bound.kwargs)

    module.ClientArgsCreator.compute_client_args = compute_client_args


class _PatchBotocoreOnImport:
    """Meta-path finder that lets the normal finders load ``botocore.args``, then patches it."""

    def find_spec(self, name, path=None, target=None):
        if name != _TARGET:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            _patch(module)

        spec.loader.exec_module = exec_and_patch
        return spec


if _TARGET in sys.modules:
    _patch(sys.modules[_TARGET])
else:
    sys.meta_path.insert(0, _PatchBotocoreOnImport())
