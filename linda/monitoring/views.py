"""Device-facing intake endpoints (heartbeat format v1, docs/devices.md).

`GET|POST /hb/<key>` answers plain `OK`; `POST /api/v1/heartbeats` answers JSON. Every failure
is JSON naming the field and the reason. A 2xx is sent only after the commit.
"""

from __future__ import annotations

import math
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from linda.monitoring.intake import IngestResult, failure, ingest_body, skew
from linda.monitoring.models import Channel
from linda.monitoring.payload import FieldError, parse_query
from linda.monitoring.ratelimit import TokenBucket
from linda.monitoring.services import KeyRejected, authenticate_key, record_heartbeat


@cache
def _bucket(rate_per_min: int, burst: int) -> TokenBucket:
    return TokenBucket(rate_per_min, burst)


def _address_bucket() -> TokenBucket:
    return _bucket(settings.LINDA_HB_ADDR_RATE_PER_MIN, settings.LINDA_HB_ADDR_BURST)


def _key_bucket() -> TokenBucket:
    return _bucket(settings.LINDA_HB_KEY_RATE_PER_MIN, settings.LINDA_HB_KEY_BURST)


def _json(result: IngestResult) -> JsonResponse:
    return JsonResponse(result.body(), status=result.status)


def _too_many(field_name: str, wait_s: float) -> JsonResponse:
    response = _json(failure(429, field_name, f"rate limit: retry in {math.ceil(wait_s)} s"))
    response["Retry-After"] = str(math.ceil(wait_s))
    return response


def _admit(request: HttpRequest, key: str) -> int | JsonResponse:
    """The site id behind `key`, or the answer refusing the request."""
    wait = _address_bucket().take(request.META.get("REMOTE_ADDR", ""))
    if wait:
        return _too_many("address", wait)
    try:
        site_id = authenticate_key(key)
    except KeyRejected as exc:
        return _json(failure(exc.status, "key", exc.reason))
    wait = _key_bucket().take(str(site_id))
    if wait:
        return _too_many("key", wait)
    return site_id


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _read_body(request: HttpRequest) -> bytes | None:
    """The body, or None if it is larger than LINDA_HB_MAX_BODY_BYTES."""
    limit = settings.LINDA_HB_MAX_BODY_BYTES
    if _declared_length(request) > limit:
        return None
    data = request.read(limit + 1)
    return None if len(data) > limit else data


def _oversize() -> JsonResponse:
    limit = settings.LINDA_HB_MAX_BODY_BYTES
    return _json(failure(413, "body", f"body larger than {limit} bytes"))


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def hb(request: HttpRequest, key: str) -> HttpResponse:
    """The simplest heartbeat: a GET (or POST) with optional query parameters."""
    admitted = _admit(request, key)
    if isinstance(admitted, JsonResponse):
        return admitted
    now = timezone.now()
    if request.method == "POST" and request.content_type == "application/json":
        data = _read_body(request)
        if data is None:
            return _oversize()
        result = ingest_body(site_id=admitted, data=data, channel=Channel.HB, now=now)
        return HttpResponse("OK\n", content_type="text/plain") if result.ok else _json(result)
    params = request.GET.dict()
    if request.method == "POST":
        if _declared_length(request) > settings.LINDA_HB_MAX_BODY_BYTES:
            return _oversize()
        params.update(request.POST.dict())
    try:
        reading = parse_query(params, now=now, skew=skew())
    except FieldError as exc:
        return _json(failure(422, exc.field, exc.reason))
    record_heartbeat(site_id=admitted, reading=reading, channel=Channel.HB, now=now)
    return HttpResponse("OK\n", content_type="text/plain")


@csrf_exempt
@require_http_methods(["POST"])
def api_heartbeats(request: HttpRequest) -> HttpResponse:
    """One JSON heartbeat or `{"v": 1, "heartbeats": [...]}`, key in `Authorization: Bearer`."""
    scheme, _, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        wait = _address_bucket().take(request.META.get("REMOTE_ADDR", ""))
        if wait:
            return _too_many("address", wait)
        return _json(failure(401, "Authorization", "expected 'Authorization: Bearer <site key>'"))
    admitted = _admit(request, key.strip())
    if isinstance(admitted, JsonResponse):
        return admitted
    data = _read_body(request)
    if data is None:
        return _oversize()
    return _json(ingest_body(site_id=admitted, data=data, channel=Channel.API,
                             now=timezone.now()))
