"""Channels in the admin: the URL is never shown back in full; "send test" delivers."""

from __future__ import annotations

import pytest
from django.test import Client

from linda.alerts.models import Channel, Notification
from linda.audit.models import AuditEntry
from tests.alerts.conftest import Receiver

pytestmark = pytest.mark.django_db
BOT = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = BOT.split(":")[1]


@pytest.fixture
def admin_client(admin_user: object) -> Client:
    client = Client()
    client.force_login(admin_user)  # type: ignore[arg-type]
    return client


def test_channel_url_is_masked_everywhere_and_kept_when_unchanged(admin_client: Client) -> None:
    response = admin_client.post("/admin/alerts/channel/add/", {
        "name": "Grup NOC", "url": f"tgram://{BOT}/-1001234567890", "language": "id",
        "is_active": "on"})
    assert response.status_code == 302, response.content[:2000]
    channel = Channel.objects.get()
    assert channel.url == f"tgram://{BOT}/-1001234567890"
    for page in (f"/admin/alerts/channel/{channel.pk}/change/", "/admin/alerts/channel/"):
        content = admin_client.get(page).content.decode()
        assert SECRET not in content and "123456789:AAH…" in content

    # Saving the form as shown (masked) keeps the stored URL.
    response = admin_client.post(f"/admin/alerts/channel/{channel.pk}/change/", {
        "name": "Grup NOC Barut", "url": channel.masked_url, "language": "en",
        "is_active": "on"})
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.url) == ("Grup NOC Barut", f"tgram://{BOT}/-1001234567890")
    assert all(SECRET not in str(e.before) + str(e.after) for e in AuditEntry.objects.all())
    assert AuditEntry.objects.count() == 2


def test_a_url_apprise_does_not_know_is_refused(admin_client: Client) -> None:
    response = admin_client.post("/admin/alerts/channel/add/", {
        "name": "x", "url": "nosuchscheme://abc", "language": "id"})
    assert response.status_code == 200 and b"Apprise tidak mengenali" in response.content
    assert not Channel.objects.exists()


def test_send_test_action_delivers_through_apprise(admin_client: Client,
                                                   receiver: Receiver) -> None:
    channel = Channel.objects.create(name="Grup Teweh Tengah", url=receiver.url("kec"))
    response = admin_client.post("/admin/alerts/channel/", {
        "action": "send_test_message", "_selected_action": [channel.pk]}, follow=True)
    assert response.status_code == 200
    assert receiver.titles("kec") == ["UJI KANAL: Grup Teweh Tengah"]
    assert "WIB" in receiver.at("kec")[0].message
    assert Notification.objects.get().status == "sent"
