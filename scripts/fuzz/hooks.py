"""What the OpenAPI documents cannot say, told to Schemathesis (scripts/check-fuzz.sh loads this
through SCHEMATHESIS_HOOKS). JSON Schema cannot look inside base64, and OpenAPI cannot make a
request body's schema depend on a header; for the cases whose validity turns on either, the
document's answer is "valid" and the service's is "it depends". Those cases are left out of
positive generation here; and a negative case whose only violation is in the CloudEvents headers
is left out when its body is a structured-mode event, which does not read them (the headers are
required in binary mode, and a parameter cannot be required for one media type only). Every other
case is sent.

- POST /api/v1/pubsub, eventType OBJECT_FINALIZE: `data` must be base64 of a JSON object.
- POST /api/v1/events, type finalized or messagePublished: in binary mode (the ce-type header) the
  body must be a JSON object (for messagePublished, a push envelope); in structured mode,
  `data_base64` must be base64 of a JSON object, and a messagePublished event's data a push
  envelope.
"""

import base64
import binascii
import json

import schemathesis
from schemathesis.core.parameters import ParameterLocation

UPLOADS = {"google.cloud.storage.object.v1.finalized", "google.cloud.pubsub.topic.v1.messagePublished"}


def _base64_json_object(text, lenient):
    """Base64 of a JSON object, read as the service reads it: a push's data leniently (base64's
    alphabet only, padding optional, as Python's b64decode), a CloudEvent's data_base64 strictly."""
    if lenient:
        alphabet = "".join(c for c in text if c.isascii() and (c.isalnum() or c in "+/"))
        text = alphabet + "=" * (-len(alphabet) % 4)
    try:
        decoded = base64.b64decode(text.strip(), validate=True)
        return isinstance(json.loads(decoded.decode("utf-8")), dict)
    except (binascii.Error, ValueError):
        return False


def _decidable(case):
    path, body = case.operation.path, case.body
    if path == "/api/v1/pubsub" and isinstance(body, dict):
        message = body.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("attributes"), dict):
            return True
        data = message.get("data")
        finalize = message["attributes"].get("eventType") == "OBJECT_FINALIZE"
        return not (finalize and isinstance(data, str) and data.strip()) or _base64_json_object(data, True)
    if path == "/api/v1/events":
        if case.media_type == "application/cloudevents+json" and isinstance(body, dict):
            if body.get("type") == "google.cloud.pubsub.topic.v1.messagePublished":
                return False
            encoded = body.get("data_base64")
            return body.get("type") not in UPLOADS or not isinstance(encoded, str) or _base64_json_object(encoded, False)
        return case.headers.get("ce-type") not in UPLOADS
    return True


def _violates_what_is_read(case):
    structured = case.operation.path == "/api/v1/events" and case.media_type == "application/cloudevents+json"
    meta = case.meta
    return not (structured and meta.is_negative_at(ParameterLocation.HEADER)
                and not meta.is_negative_at(ParameterLocation.BODY))


@schemathesis.hook
def filter_case(context, case):
    if case.meta is None:
        return True
    if case.meta.generation.mode.is_negative:
        return _violates_what_is_read(case)
    return _decidable(case)
