"""S3 event notifications -> typed records (pure parsing, no AWS calls).

S3 URL-encodes object keys in notifications (a space arrives as ``+``), hence ``unquote_plus``.
See https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional, Protocol
from urllib.parse import unquote_plus

from .exceptions import InvalidEventError
from .layout import parse_event_time

#: S3 conditional-request failures: the object changed since the event (GetObject If-Match) or the
#: object already exists / changed (PutObject If-None-Match / If-Match), i.e. another delivery of the
#: event did the work or holds the claim.
CONDITION_FAILED_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})


class LambdaContext(Protocol):
    """The parts of the Lambda runtime's context object the handlers read."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str

    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True)
class S3ObjectRef:
    """One object named by an S3 ObjectCreated record."""

    bucket: str
    key: str
    event_time: str
    version_id: Optional[str] = None
    etag: Optional[str] = None
    size: Optional[int] = None

    def get_selector(self) -> Dict[str, str]:
        """GetObject arguments that read exactly the object this event is about.

        The version when the bucket is versioned; otherwise ``If-Match`` on the ETag, so an object
        overwritten since the event fails with PreconditionFailed instead of being read in its place.
        """
        if self.version_id:
            return {"VersionId": self.version_id}
        return {"IfMatch": f'"{self.etag}"'} if self.etag else {}


def parse_s3_event(event: Mapping[str, Any]) -> List[S3ObjectRef]:
    """Records of an S3 notification event, keys decoded. ``s3:TestEvent`` yields no records."""
    if event.get("Event") == "s3:TestEvent":  # sent once when a notification is configured
        return []
    records = event.get("Records")
    if not isinstance(records, list):
        raise InvalidEventError("Event has no 'Records' list: expected an S3 event notification.")
    refs = []
    for index, record in enumerate(records):
        try:
            s3 = record["s3"]
            obj = s3["object"]
            refs.append(
                S3ObjectRef(
                    bucket=s3["bucket"]["name"],
                    key=unquote_plus(obj["key"]),
                    event_time=record["eventTime"],
                    version_id=obj.get("versionId") or None,
                    etag=(obj.get("eTag") or "").strip('"') or None,
                    size=obj.get("size"),
                )
            )
        except (KeyError, TypeError) as exc:
            raise InvalidEventError(f"Record {index} is not an S3 event record (missing {exc}).") from None
    return refs


def event_datetime(ref: S3ObjectRef) -> datetime:
    """The record's ``eventTime`` as an aware UTC datetime (when S3 created the object)."""
    return parse_event_time(ref.event_time)
