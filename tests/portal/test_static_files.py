"""Static files as production serves them: `collectstatic` writes hashed names with .gz and .br beside each,
and WhiteNoise serves them compressed with a far-future, immutable cache policy."""

import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

MANIFEST = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    """One `collectstatic` for the module (compressing every file takes seconds)."""
    root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=root, STORAGES={**settings.STORAGES, "staticfiles": MANIFEST}):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture
def collected(settings, static_root):
    settings.STATIC_ROOT = static_root
    settings.STORAGES = {**settings.STORAGES, "staticfiles": MANIFEST}
    return json.loads((static_root / "staticfiles.json").read_text())["paths"]


def test_it_names_each_file_by_its_content_and_compresses_it(collected, static_root):
    hashed = collected["css/portal.css"]

    assert hashed != "css/portal.css" and hashed.startswith("css/portal.")
    for suffix in ("", ".gz", ".br"):
        assert (static_root / f"{hashed}{suffix}").is_file()


@pytest.mark.parametrize(("encoding", "expected"), [("br", "br"), ("gzip", "gzip"), ("identity", None)])
def test_whitenoise_serves_it_compressed_and_cached_for_a_year(collected, encoding, expected):
    response = Client().get(f"/static/{collected['js/htmx.min.js']}", HTTP_ACCEPT_ENCODING=encoding)

    assert response.status_code == 200
    assert response.get("Content-Encoding") == expected
    assert "max-age=315360000" in response["Cache-Control"]
    assert "immutable" in response["Cache-Control"]


def test_pages_link_the_hashed_names(collected):
    page = Client().get("/login/").content.decode()

    assert f'/static/{collected["css/portal.css"]}"' in page
    assert f'/static/{collected["js/htmx.min.js"]}"' in page


def test_a_file_by_its_plain_name_is_not_cached_for_long(collected):
    response = Client().get("/static/css/portal.css")

    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]
