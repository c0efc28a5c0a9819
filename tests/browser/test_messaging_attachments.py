"""Attachments in a real browser, where the deployer allows them, at a phone's width and a
desktop's: a web page named like a photo is refused at the file field with nothing stored; a
PDF is sent and listed in the thread as a link that answers the same bytes as a download (never
inline). Every page is checked with axe-core (no serious or critical violation) and for
unlabelled controls and sideways scrolling (``check_page``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import FilePayload
from pytest_django.live_server_helper import LiveServer

from rapport.messaging.models import Message, MessageAttachment
from tests.browser.conftest import Tab
from tests.browser.test_messaging import _sign_in
from tests.browser.test_therapist_journey import check_page
from tests.factories import load_reference_data
from tests.messaging.factories import make_engagement_thread

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.mark.parametrize("width", [375, 1280])
def test_a_client_attaches_a_pdf_and_a_disguised_file_is_refused(
    tab: Tab, live_server: LiveServer, settings, tmp_path: Path, width: int
):
    settings.MESSAGING_ATTACHMENTS = True
    settings.STORAGES = {
        **settings.STORAGES,
        "videos": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }
    load_reference_data()
    thread = make_engagement_thread()
    thread.therapist.between_session_contact = "brief_check_ins"
    thread.therapist.save(update_fields=["between_session_contact"])
    page = tab.page
    page.set_viewport_size({"width": width, "height": 800})
    checked: list[str] = []
    _sign_in(tab, live_server, thread.client)
    assert tab.visit(f"/messages/{thread.public_id}/", until="load") == []
    check_page(tab, checked)

    page.get_by_label("Your message").fill("The form you asked for.")
    page.get_by_label("Attach files (optional)").set_input_files(
        FilePayload(name="photo.png", mimeType="image/png", buffer=b"<html><script></script>")
    )
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state("load")
    error = page.locator("#id_attachments-error").inner_text()
    assert "“photo.png” is not a PDF, PNG or JPEG file" in error
    assert page.locator("#id_attachments").get_attribute("aria-invalid") == "true"
    check_page(tab, checked)
    assert not Message.objects.exists()

    page.get_by_label("Your message").fill("The form you asked for.")
    page.get_by_label("Attach files (optional)").set_input_files(
        FilePayload(name="Intake form.pdf", mimeType="application/pdf", buffer=PDF)
    )
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state("load")
    link = page.get_by_role("link", name="Intake form.pdf")
    assert link.count() == 1
    check_page(tab, checked)
    # Fetched with the browser's own session: a download of the same bytes, never inline.
    answer = page.request.get(live_server.url + str(link.get_attribute("href")))
    assert answer.status == 200
    assert answer.headers["content-disposition"] == 'attachment; filename="Intake form.pdf"'
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.body() == PDF
    assert MessageAttachment.objects.get().display_name == "Intake form.pdf"
    assert len(checked) == 3
