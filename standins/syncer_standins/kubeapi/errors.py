"""Errors the stand-in answers with, each carrying the exact `Status` body kube-apiserver sends.

    ApiError              an HTTP error with a metav1.Status body
    PageNotFound          404 with `text/plain` "404 page not found" (unknown path or group)
    ServiceUnavailable    503 with `text/plain` "service unavailable" (an unavailable APIService)
    ApplyConflict         409 raised by the field manager (see `ownership`)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ApiError",
    "PageNotFound",
    "Resource",
    "ServiceUnavailable",
    "already_exists",
    "bad_request",
    "conflict",
    "expired",
    "forbidden",
    "internal",
    "invalid",
    "method_not_allowed",
    "not_found",
    "status_body",
    "too_many_requests",
    "unsupported_media_type",
]


@dataclass(frozen=True)
class Resource:
    """A resource as errors name it: plural and group (`deployments.apps`), and its Kind."""

    plural: str
    group: str = ""
    kind: str = ""

    @property
    def qualified(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind


class PageNotFound(Exception):
    """The path is not served at all: kube answers a plain-text 404, not a Status."""


class ServiceUnavailable(Exception):
    """The path belongs to an aggregated API whose service is not available: a plain-text 503."""


@dataclass
class ApiError(Exception):
    """An error answer: HTTP code plus the Status fields (`reason` may be empty, as for 500)."""

    code: int
    message: str
    reason: str = ""
    details: dict[str, Any] | None = field(default=None)
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers

    def __str__(self) -> str:
        return f"{self.code} {self.reason}: {self.message}"

    def body(self) -> dict[str, Any]:
        return status_body(self.code, self.message, reason=self.reason, details=self.details)


def status_body(
    code: int, message: str, *, reason: str = "", details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A Failure Status with kube's key order: kind, apiVersion, metadata, status, message..."""
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}}
    body["status"] = "Failure"
    body["message"] = message
    if reason:
        body["reason"] = reason
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def _details(name: str, resource: Resource, *, kind: str | None = None) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name}
    if resource.group:
        details["group"] = resource.group
    details["kind"] = resource.plural if kind is None else kind
    return details


def not_found(resource: Resource, name: str) -> ApiError:
    message = f'{resource.qualified} "{name}" not found'
    return ApiError(404, message, "NotFound", _details(name, resource))


def already_exists(resource: Resource, name: str) -> ApiError:
    message = f'{resource.qualified} "{name}" already exists'
    return ApiError(409, message, "AlreadyExists", _details(name, resource))


def conflict(resource: Resource, name: str, *, why: str) -> ApiError:
    message = f'Operation cannot be fulfilled on {resource.qualified} "{name}": {why}'
    return ApiError(409, message, "Conflict", _details(name, resource))


def invalid(resource: Resource, name: str, *, causes: list[tuple[str, str, str]]) -> ApiError:
    """422 Invalid; each cause is (reason, field, message without the field)."""
    texts = [f"{path}: {text}" for _, path, text in causes]
    summary = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    message = f'{resource.qualified_kind} "{name}" is invalid: {summary}'
    details = _details(name, resource, kind=resource.kind)
    details["causes"] = [
        {"reason": reason, "message": text, "field": path} for reason, path, text in causes
    ]
    return ApiError(422, message, "Invalid", details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, message, "BadRequest")


def forbidden(message: str) -> ApiError:
    return ApiError(403, message, "Forbidden")


def internal(message: str) -> ApiError:
    """500 as the field manager sends it: no reason, no details."""
    return ApiError(500, message)


def expired(message: str) -> ApiError:
    return ApiError(410, message, "Expired")


def too_many_requests(message: str, *, retry_after: int) -> ApiError:
    """429 with `Retry-After`, as a storage that is still initialising answers."""
    return ApiError(429, message, "TooManyRequests", {"retryAfterSeconds": retry_after},
                    {"Retry-After": str(retry_after)})


def method_not_allowed() -> ApiError:
    message = "the server does not allow this method on the requested resource"
    return ApiError(405, message, "MethodNotAllowed", {})


def unsupported_media_type(content_type: str) -> ApiError:
    message = (
        f"the body of the request was in an unknown format ({content_type}) - accepted media "
        "types include: application/json-patch+json, application/merge-patch+json, "
        "application/apply-patch+yaml"
    )
    return ApiError(415, message, "UnsupportedMediaType")
