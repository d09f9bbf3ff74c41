"""FHIR R4 DocumentReference for a portal PDF, ready for an EHR import."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

#: No standard code fits a patient handout exactly; a local code the EHR can map.
DOCUMENT_TYPE = {
    "coding": [
        {
            "system": "urn:spine-handouts:document-type",
            "code": "patient-education",
            "display": "Patient education handout",
        }
    ],
    "text": "Patient education",
}


def document_reference(
    pdf: bytes, file_name: str, record_id: str, title: str, language: str, embed: bool
) -> dict[str, Any]:
    """The PDF as base64 `data` (embed) or as a `url` relative to the JSON file."""
    attachment: dict[str, Any] = {
        "contentType": "application/pdf",
        "language": language,
        "title": title,
        "size": len(pdf),
        "hash": base64.b64encode(hashlib.sha1(pdf).digest()).decode("ascii"),
    }
    if embed:
        attachment["data"] = base64.b64encode(pdf).decode("ascii")
    else:
        attachment["url"] = file_name
    return {
        "resourceType": "DocumentReference",
        "identifier": [{"system": "urn:spine-handouts:record-id", "value": record_id}],
        "status": "current",
        "type": DOCUMENT_TYPE,
        "description": title,
        "content": [{"attachment": attachment}],
    }
