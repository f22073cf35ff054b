"""Files on tickets go through Django's storage API, so another backend (an object store
with django-storages) can be configured: the local disk is only the default."""

from __future__ import annotations

import json
import subprocess
import sys

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from casedesk.tickets.models import Attachment
from tests.ops.installation import Installation


def test_uploads_and_downloads_use_the_configured_storage(client, world, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(world.alice)
    upload = SimpleUploadedFile("notes.txt", b"kept in memory, not on disk\n", "text/plain")
    page = client.post(
        "/portal/new/", {"desk": world.desk.pk, "title": "Stored elsewhere", "attachments": upload}
    )
    assert page.status_code == 302
    attachment = Attachment.objects.get()
    assert type(default_storage._wrapped).__name__ == "InMemoryStorage"
    assert default_storage.exists(attachment.file.name)
    assert not (tmp_path / "media").exists()  # nothing went to the local disk
    download = client.get(f"/files/{attachment.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"kept in memory, not on disk\n"


def test_the_storage_comes_from_the_environment(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "from django.core.files.storage import default_storage as d;"
        "import json; print(json.dumps("
        "[s.STORAGES['default'], d.location, type(d._wrapped).__name__]))"
    )
    installation = Installation(
        tmp_path,
        DJANGO_SETTINGS_MODULE="casedesk.settings",
        CASEDESK_FILE_STORAGE="django.core.files.storage.FileSystemStorage",
        CASEDESK_FILE_STORAGE_OPTIONS=json.dumps({"location": str(tmp_path / "elsewhere")}),
    )

    def run(**env):
        return subprocess.run(
            [sys.executable, "-c", code],
            env={**installation.env, **env},
            capture_output=True,
            text=True,
            check=False,
        )

    out = json.loads(run().stdout)
    assert out[0]["OPTIONS"] == {"location": str(tmp_path / "elsewhere")}
    assert out[1:] == [str(tmp_path / "elsewhere"), "FileSystemStorage"]
    broken = run(CASEDESK_FILE_STORAGE_OPTIONS="{bucket: casedesk}")
    assert broken.returncode != 0 and "CASEDESK_FILE_STORAGE_OPTIONS is not JSON" in broken.stderr
