"""Parse and serialise the Glue JSON 1.1 protocol with botocore's own Glue service model.

Input: the request body is validated against the operation's input shape with botocore's
``ParamValidator`` (the same checks a boto3 client makes, so clients without client-side validation
get the same answers). Output: results are filtered through the output shape (unknown keys dropped)
and timestamps become epoch seconds, as the JSON protocol sends them.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from botocore.loaders import create_loader
from botocore.model import OperationModel, ServiceModel, Shape
from botocore.validate import ParamValidator

from .backend import GlueBackend
from .exceptions import EntityNotFoundException, InvalidInputException, UnknownOperationException

TARGET_PREFIX = "AWSGlue."
DEFAULT_PAGE_SIZE = 100

# Loaded straight from botocore's data files: a botocore Session would read the host's AWS_PROFILE.
_service_model = ServiceModel(create_loader().load_service_model("glue", "service-2"), "glue")


def paginate(items: list[Any], params: dict[str, Any]) -> tuple[list[Any], str | None]:
    """The one pagination rule of this service: NextToken is the offset of the next page."""
    token = params.get("NextToken")
    try:
        start = int(token) if token else 0
    except ValueError:
        raise InvalidInputException(
            f"Invalid NextToken {token!r}: pass back the NextToken of the previous page."
        ) from None
    size = params.get("MaxResults") or DEFAULT_PAGE_SIZE
    page = items[start : start + size]
    return page, (str(start + size) if start + size < len(items) else None)


def _serialise(value: Any, shape: Shape) -> Any:
    if value is None:
        return None
    if shape.type_name == "structure":
        out = {}
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                out[name] = _serialise(value[name], member)
        return out
    if shape.type_name == "list":
        return [_serialise(v, shape.member) for v in value]
    if shape.type_name == "map":
        return {k: _serialise(v, shape.value) for k, v in value.items()}
    if shape.type_name == "timestamp":
        return value if isinstance(value, (int, float)) else value.timestamp()
    return value


class GlueResponses:
    """One method per implemented operation: params (validated dict) -> result (dict in the output shape)."""

    def __init__(self, backend: GlueBackend) -> None:
        self.backend = backend
        self._handlers: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
            "CreateJob": self.create_job,
            "GetJob": self.get_job,
            "GetJobs": self.get_jobs,
            "BatchGetJobs": self.batch_get_jobs,
            "ListJobs": self.list_jobs,
            "UpdateJob": self.update_job,
            "DeleteJob": self.delete_job,
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
            "GetTags": self.get_tags,
            "StartJobRun": self.start_job_run,
            "GetJobRun": self.get_job_run,
            "GetJobRuns": self.get_job_runs,
            "BatchStopJobRun": self.batch_stop_job_run,
        }

    @property
    def operations(self) -> list[str]:
        return sorted(self._handlers)

    def dispatch(self, target: str, body: bytes, region: str) -> dict[str, Any]:
        """Run the operation an ``X-Amz-Target`` header names on a JSON body; return the JSON-able result."""
        operation = target[len(TARGET_PREFIX) :] if target.startswith(TARGET_PREFIX) else ""
        handler = self._handlers.get(operation)
        if handler is None:
            raise UnknownOperationException(
                f"Operation {target or '(no X-Amz-Target)'} is not supported by this Glue emulation. "
                f"Supported: {', '.join(self.operations)}."
            )
        model: OperationModel = _service_model.operation_model(operation)
        try:
            params = json.loads(body or b"{}")
        except ValueError as exc:
            raise InvalidInputException(f"Request body is not JSON: {exc}") from None
        if not isinstance(params, dict):
            raise InvalidInputException("Request body must be a JSON object.")
        report = ParamValidator().validate(params, model.input_shape)
        if report.has_errors():
            raise InvalidInputException(report.generate_report())
        result = handler(params, region)
        return _serialise(result, model.output_shape) if model.output_shape else {}

    # ----- jobs --------------------------------------------------------------------------------
    def create_job(self, params, region):
        return {"Name": self.backend.create_job(params)}

    def get_job(self, params, region):
        return {"Job": self.backend.get_job(params["JobName"]).as_dict()}

    def get_jobs(self, params, region):
        page, token = paginate(self.backend.list_jobs(), params)
        return {"Jobs": [job.as_dict() for job in page], "NextToken": token}

    def batch_get_jobs(self, params, region):
        jobs, missing = [], []
        for name in params["JobNames"]:
            try:
                jobs.append(self.backend.get_job(name).as_dict())
            except EntityNotFoundException:
                missing.append(name)
        return {"Jobs": jobs, "JobsNotFound": missing}

    def list_jobs(self, params, region):
        page, token = paginate(self.backend.list_jobs(params.get("Tags")), params)
        return {"JobNames": [job.name for job in page], "NextToken": token}

    def update_job(self, params, region):
        return {"JobName": self.backend.update_job(params["JobName"], params["JobUpdate"])}

    def delete_job(self, params, region):
        return {"JobName": self.backend.delete_job(params["JobName"])}

    # ----- tags --------------------------------------------------------------------------------
    def tag_resource(self, params, region):
        self.backend.tag_resource(params["ResourceArn"], params["TagsToAdd"])
        return {}

    def untag_resource(self, params, region):
        self.backend.untag_resource(params["ResourceArn"], params["TagsToRemove"])
        return {}

    def get_tags(self, params, region):
        return {"Tags": self.backend.get_tags(params["ResourceArn"])}

    # ----- runs --------------------------------------------------------------------------------
    def start_job_run(self, params, region):
        return {"JobRunId": self.backend.start_job_run(params, region).id}

    def get_job_run(self, params, region):
        return {"JobRun": self.backend.get_job_run(params["JobName"], params["RunId"]).as_dict()}

    def get_job_runs(self, params, region):
        page, token = paginate(self.backend.get_job_runs(params["JobName"]), params)
        return {"JobRuns": [run.as_dict() for run in page], "NextToken": token}

    def batch_stop_job_run(self, params, region):
        ok, errors = self.backend.batch_stop_job_run(params["JobName"], params["JobRunIds"])
        return {"SuccessfulSubmissions": ok, "Errors": errors}
