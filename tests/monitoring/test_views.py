"""Intake over HTTP: the bad-input table, batches, duplicates, rate limits, logging."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from linda.monitoring.models import Heartbeat, SiteKey, SiteState
from linda.monitoring.services import hash_key, issue_site_key, revoke_site_key
from linda.registry.models import Site

pytestmark = pytest.mark.django_db


def post(client: Client, key: str | None, body: Any, **extra: Any) -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.post("/api/v1/heartbeats", data=data, content_type="application/json",
                       **headers, **extra)


def test_hb_get_with_query_parameters_stores_every_metric(client: Client, key: str) -> None:
    response = client.get(
        f"/hb/{key}?seq=1&uptime=3600&volt=24.1&batt_v=12.7&soc=81&src=solar&lvd=0&temp=41.5"
        "&cpu=7&rx=123456789012&tx=987654321&users=14&leases=20&rtt=612.5&loss=1.5"
    )
    assert response.status_code == 200 and response.content == b"OK\n"
    beat = Heartbeat.objects.get()
    assert (beat.seq, beat.uptime_s, beat.supply_voltage_v, beat.battery_voltage_v) == (
        1, 3600, 24.1, 12.7)
    assert (beat.battery_soc_pct, beat.power_source, beat.lvd, beat.temperature_c) == (
        81, "solar", False, 41.5)
    assert beat.wan == {"wan": {"rx_bytes": 123456789012, "tx_bytes": 987654321}}
    assert (beat.hotspot_users, beat.dhcp_leases, beat.rtt_ms, beat.loss_pct) == (
        14, 20, 612.5, 1.5)
    assert beat.channel == "hb" and not beat.late


def test_hb_post_form_and_json_bodies(client: Client, key: str) -> None:
    assert client.post(f"/hb/{key}", {"seq": "1", "rtt": "40"}).content == b"OK\n"
    assert post_json_to_hb(client, key, {"seq": 2, "rtt_ms": 41}).content == b"OK\n"
    assert list(Heartbeat.objects.values_list("seq", "rtt_ms")) == [(1, 40.0), (2, 41.0)]


def post_json_to_hb(client: Client, key: str, body: Any) -> Any:
    return client.post(f"/hb/{key}", data=json.dumps(body), content_type="application/json")


def test_api_single_heartbeat(client: Client, key: str) -> None:
    response = post(client, key, {"v": 1, "seq": 5, "uptime_s": 10, "power_source": "grid",
                                  "wan": {"ether1": {"rx_bytes": 1, "tx_bytes": 2}},
                                  "battery_soc_pct": "55.5", "colour": "red"})
    assert response.status_code == 200
    assert response.json() == {"v": 1, "accepted": 1, "duplicates": 0, "late": 0,
                               "rejected": [], "ignored": ["colour"]}
    assert Heartbeat.objects.get().battery_soc_pct == 55.5


NOW_ISO = "2099-01-01T00:00:00Z"  # far in the future, whatever today is

BAD_SINGLE = [
    # (body, status, field, reason fragment)
    ("{not json", 400, "body", "malformed JSON"),
    (b"\xff\xfe", 400, "body", "not UTF-8"),
    ("[1, 2]", 400, "body", "heartbeat object"),
    ('{"loss_pct": NaN}', 400, "body", "malformed JSON"),
    ({"v": 2}, 422, "v", "unsupported format version"),
    ({"loss_pct": 150}, 422, "loss_pct", "out of range"),
    ({"supply_voltage_v": -3}, 422, "supply_voltage_v", "out of range"),
    ({"battery_soc_pct": 101}, 422, "battery_soc_pct", "out of range"),
    ({"temperature_c": 900}, 422, "temperature_c", "out of range"),
    ({"rtt_ms": "fast"}, 422, "rtt_ms", "must be a number"),
    ({"seq": 1.5}, 422, "seq", "whole number"),
    ({"seq": True}, 422, "seq", "must be a number"),
    ({"power_source": "diesel"}, 422, "power_source", "grid, solar, battery"),
    ({"lvd": "maybe"}, 422, "lvd", "true or false"),
    ({"wan": [1]}, 422, "wan", "must be an object"),
    ({"wan": {"ether1": {"rx_bytes": -1}}}, 422, "wan.ether1.rx_bytes", "out of range"),
    ({"device_at": "yesterday"}, 422, "device_at", "ISO 8601"),
    ({"device_at": "2024-10-15T10:00:00"}, 422, "device_at", "UTC offset"),
    ({"device_at": NOW_ISO}, 422, "device_at", "skew tolerance"),
    ({"age_s": -5}, 422, "age_s", "out of range"),
    ({"heartbeats": {}}, 400, "heartbeats", "must be a list"),
    ({"heartbeats": []}, 422, "heartbeats", "at least one"),
]


@pytest.mark.parametrize(("body", "status", "field", "reason"), BAD_SINGLE)
def test_bad_input_table(client: Client, key: str, body: Any, status: int, field: str,
                         reason: str) -> None:
    response = post(client, key, body)
    assert response.status_code == status
    answer = response.json()
    assert answer["field"] == field and reason in answer["reason"]
    assert not Heartbeat.objects.exists()


@pytest.mark.parametrize(("query", "field"), [
    ("loss=150", "loss"), ("volt=-3", "volt"), ("src=diesel", "src"), ("seq=x", "seq"),
    ("t=4102444800", "t"), ("uptime=-1", "uptime"),
])
def test_bad_query_parameters_are_422_naming_the_parameter(client: Client, key: str,
                                                          query: str, field: str) -> None:
    response = client.get(f"/hb/{key}?{query}")
    assert response.status_code == 422 and response.json()["field"] == field
    assert not Heartbeat.objects.exists()


def test_keys_unknown_missing_and_revoked(client: Client, site: Site, key: str) -> None:
    assert post(client, None, {}).status_code == 401
    assert post(client, None, {}).json()["field"] == "Authorization"
    unknown = post(client, "A" * 32, {})
    assert unknown.status_code == 401 and unknown.json()["reason"] == "unknown key"
    assert client.get("/hb/" + "B" * 32).status_code == 401
    revoke_site_key(SiteKey.objects.get(key_hash=hash_key(key)))
    assert post(client, key, {}).status_code == 403
    assert client.get(f"/hb/{key}").json() == {"error": "revoked key", "field": "key",
                                               "reason": "revoked key"}
    assert not Heartbeat.objects.exists()
    fresh = issue_site_key(site)
    assert client.get(f"/hb/{fresh}").status_code == 200


@override_settings(LINDA_HB_MAX_BODY_BYTES=1000)
def test_oversize_body_is_413(client: Client, key: str) -> None:
    big = {"heartbeats": [{"seq": n} for n in range(200)]}
    response = post(client, key, big)
    assert response.status_code == 413 and response.json()["field"] == "body"
    assert post(client, key, {"seq": 1}).status_code == 200


@override_settings(LINDA_HB_MAX_BATCH=3)
def test_too_many_items_is_413(client: Client, key: str) -> None:
    response = post(client, key, {"heartbeats": [{}, {}, {}, {}]})
    assert response.status_code == 413 and response.json()["field"] == "heartbeats"


def test_batch_keeps_valid_items_and_names_each_rejected_one(client: Client, key: str) -> None:
    now = timezone.now()
    future = (now + timezone.timedelta(hours=2)).isoformat()
    old = (now - timezone.timedelta(minutes=30)).isoformat()
    body = {"v": 1, "heartbeats": [
        {"seq": 1, "device_at": old, "battery_voltage_v": 11.9},
        {"seq": 2, "device_at": future},
        {"seq": 3, "loss_pct": 150},
        {"seq": 4, "age_s": 5, "loss_pct": 2},
        "junk",
    ]}
    response = post(client, key, body)
    assert response.status_code == 422
    assert response.json() == {
        "v": 1, "accepted": 2, "duplicates": 0, "late": 1,
        "rejected": [
            {"index": 1, "field": "device_at",
             "reason": "in the future beyond the 300 s clock skew tolerance"},
            {"index": 2, "field": "loss_pct", "reason": "out of range: 150 is not within 0..100"},
            {"index": 4, "field": "body", "reason": "a heartbeat must be a JSON object"},
        ],
    }
    assert dict(Heartbeat.objects.values_list("seq", "late")) == {1: True, 4: False}


def test_duplicate_sequence_over_http_is_one_row(client: Client, key: str) -> None:
    first = post(client, key, {"seq": 42})
    again = post(client, key, {"heartbeats": [{"seq": 42}, {"seq": 43}]})
    assert first.json()["accepted"] == 1
    assert (again.status_code, again.json()["accepted"], again.json()["duplicates"]) == (
        200, 1, 1)
    assert client.get(f"/hb/{key}?seq=42").status_code == 200
    assert Heartbeat.objects.filter(seq=42).count() == 1


def test_late_batch_over_http_does_not_advance_last_live(client: Client, key: str,
                                                        site: Site) -> None:
    assert client.get(f"/hb/{key}?seq=1").status_code == 200
    last_live = SiteState.objects.get(site=site).last_live_at
    old = timezone.now() - timezone.timedelta(minutes=10)
    response = post(client, key, {"heartbeats": [
        {"seq": n, "age_s": 600 - n, "battery_voltage_v": 12.5} for n in range(2, 6)
    ] + [{"seq": 6, "device_at": old.isoformat()}]})
    assert response.json()["late"] == 5
    assert SiteState.objects.get(site=site).last_live_at == last_live


@override_settings(LINDA_HB_KEY_RATE_PER_MIN=60, LINDA_HB_KEY_BURST=2)
def test_rate_limit_per_key(client: Client, key: str) -> None:
    codes = [client.get(f"/hb/{key}").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    limited = client.get(f"/hb/{key}")
    assert limited.json()["field"] == "key" and int(limited["Retry-After"]) >= 1


@override_settings(LINDA_HB_ADDR_RATE_PER_MIN=60, LINDA_HB_ADDR_BURST=3)
def test_rate_limit_per_address_stops_key_guessing(client: Client, key: str) -> None:
    codes = [client.get("/hb/" + "C" * 32).status_code for _ in range(3)]
    assert codes == [401, 401, 401]
    assert client.get(f"/hb/{key}").status_code == 429
    assert client.get(f"/hb/{key}", REMOTE_ADDR="10.9.8.7").status_code == 200


def test_csrf_is_not_required(key: str) -> None:
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"/hb/{key}", {"seq": "1"}).status_code == 200
    assert post(strict, key, {"seq": 2}).status_code == 200


def test_wrong_method_is_405(client: Client, key: str) -> None:
    assert client.get("/api/v1/heartbeats").status_code == 405
    assert client.put(f"/hb/{key}").status_code == 405


def test_the_key_never_reaches_the_logs(client: Client, key: str,
                                        caplog: pytest.LogCaptureFixture) -> None:
    revoke_site_key(SiteKey.objects.get(key_hash=hash_key(key)))
    with caplog.at_level(logging.INFO):
        client.get(f"/hb/{key}?seq=1")  # 403: django.request logs the path
        logging.getLogger("gunicorn.access").info(
            '%(r)s %(s)s', {"r": f"GET /hb/{key}?seq=1 HTTP/1.1", "s": "200"})
        logging.getLogger("django.server").info('"%s" %s %s', f"GET /hb/{key} HTTP/1.1",
                                                "200", "3")
    text = caplog.text + " ".join(r.getMessage() for r in caplog.records)
    assert key not in text
    assert "/hb/<redacted>" in text
