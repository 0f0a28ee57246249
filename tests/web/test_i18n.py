from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_bahasa_indonesia_is_the_default() -> None:
    page = Client().get("/login/").content.decode()
    assert '<html lang="id">' in page
    assert "Masuk" in page and "Log in" not in page


@pytest.mark.django_db
def test_english_is_selectable_with_the_language_switch() -> None:
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    page = client.get("/login/").content.decode()
    assert '<html lang="en">' in page
    assert "Log in" in page
    assert "Times are shown in WIB (Asia/Jakarta)." in page
