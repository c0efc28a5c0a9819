"""Result cards' actions (Save, Book, next free time, photo), Save without JavaScript and with
htmx, a signed-in person's shortlist kept with the account (merged at sign-in, within the cap,
never shown to anyone else, exported and erased), and the comparison's next free time."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from rapport.accounts.selectors import account_export_data
from rapport.accounts.services import account_delete
from rapport.directory.models import ShortlistEntry
from rapport.directory.shortlist import SESSION_KEY, SHORTLIST_LIMIT
from tests.factories import TEST_PASSWORD, make_therapist, make_user

pytestmark = pytest.mark.usefixtures("reference_data")

SEARCH_URL = "/therapists/"
ADD_URL = "/therapists/shortlist/add/"
REMOVE_URL = "/therapists/shortlist/remove/"
SHORTLIST_URL = "/therapists/shortlist/"
COMPARE_URL = "/therapists/compare/"


def clock(local: dt.datetime) -> str:
    """A wall time in the site's words, by hand: 9:00 a.m., 12:30 p.m."""
    hour = local.hour % 12 or 12
    return f"{hour}:{local:%M} {'a.m.' if local.hour < 12 else 'p.m.'}"


def card_html(page: str, public_id: object) -> str:
    """The <article> of one therapist's card on a page of results."""
    match = re.search(
        rf'<article class="card" aria-labelledby="therapist-{public_id}">(.*?)</article>',
        page,
        re.S,
    )
    assert match, f"no card for {public_id}"
    return match.group(1)


def account_ids(user) -> list[str]:
    return [
        str(public_id)
        for public_id in ShortlistEntry.objects.filter(user=user)
        .order_by("saved_at", "id")
        .values_list("therapist__public_id", flat=True)
    ]


def sign_in(client: Client, user) -> None:
    response = client.post("/accounts/login/", {"login": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.content[:500]


# --- the card ------------------------------------------------------------------------------------


def test_card_shows_save_book_next_time_and_photo(client):
    soon = (timezone.now() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    therapist = make_therapist(
        display_name="Ada Card",
        consultation_minutes=20,
        next_consultation_at=soon,
        photo="photos/abcdef123456xyz.jpg",
    )
    page = client.get(SEARCH_URL).content.decode()
    card = card_html(page, therapist.public_id)

    # Save: a plain POST form naming the therapist, for use without JavaScript.
    assert f'action="{ADD_URL}"' in card
    assert f'name="public_id" value="{therapist.public_id}"' in card
    assert re.search(
        r">Save<span class=\"visually-hidden\"> Ada Card to your shortlist</span>", card
    )
    # Book: booking's own page for this therapist.
    assert f'href="/therapists/{therapist.public_id}/book/"' in card
    assert "Book a free consultation" in card
    # The next free time, written out by hand in the therapist's zone.
    local = soon.astimezone(ZoneInfo("America/Toronto"))
    expected = (
        f"{local:%A}, {local:%B} {local.day}, {local.year} at {clock(local)} Eastern Time (Toronto)"
    )
    assert f"<dt>Next free consultation</dt><dd>{expected}</dd>" in card
    # The photo, served by the directory's photo view.
    assert f'src="/therapists/{therapist.public_id}/photo.jpg?v=abcdef123456"' in card


def test_card_without_consultation_or_photo_has_no_book_link_and_shows_initials(client):
    therapist = make_therapist(display_name="Bo Plain", consultation_minutes=0)
    card = card_html(client.get(SEARCH_URL).content.decode(), therapist.public_id)
    assert "/book/" not in card
    assert "Book a free consultation" not in card
    assert "Next free consultation" not in card
    assert '<span class="avatar" aria-hidden="true">BP</span>' in card
    assert f'action="{ADD_URL}"' in card


def test_save_without_javascript_redirects_back_and_the_card_says_saved(client):
    therapist = make_therapist(display_name="Cy Saved")
    page = client.get(f"{SEARCH_URL}?sort=name").content.decode()
    # The form sends the person back to this card on the same search.
    next_value = f"{SEARCH_URL}?sort=name#save-{therapist.public_id}"
    assert f'name="next" value="{next_value}"' in card_html(page, therapist.public_id)
    response = client.post(ADD_URL, {"public_id": str(therapist.public_id), "next": next_value})
    assert response.status_code == 302
    assert response["Location"] == next_value
    assert client.session[SESSION_KEY] == [str(therapist.public_id)]

    card = card_html(client.get(SEARCH_URL).content.decode(), therapist.public_id)
    assert f'action="{REMOVE_URL}"' in card
    assert ">Saved<" in card
    assert f'action="{ADD_URL}"' not in card

    # Pressing "Saved" removes it again.
    client.post(REMOVE_URL, {"public_id": str(therapist.public_id), "next": SEARCH_URL})
    assert client.session[SESSION_KEY] == []
    card = card_html(client.get(SEARCH_URL).content.decode(), therapist.public_id)
    assert f'action="{ADD_URL}"' in card


def test_save_with_htmx_answers_the_form_in_its_new_state(client):
    therapist = make_therapist(display_name="Di Htmx")
    data = {"public_id": str(therapist.public_id), "name": "Di Htmx", "next": SEARCH_URL}
    response = client.post(ADD_URL, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert f'id="save-button-{therapist.public_id}"' in body
    assert f'action="{REMOVE_URL}"' in body
    assert "Di Htmx is on your shortlist" in body
    assert f'name="next" value="{SEARCH_URL}#save-{therapist.public_id}"' in body
    assert client.session[SESSION_KEY] == [str(therapist.public_id)]

    response = client.post(REMOVE_URL, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'action="{ADD_URL}"' in response.content.decode()
    assert client.session[SESSION_KEY] == []


def test_htmx_save_when_full_says_so_at_the_button_and_saves_nothing(client):
    therapists = [make_therapist() for _ in range(SHORTLIST_LIMIT + 1)]
    for therapist in therapists[:SHORTLIST_LIMIT]:
        client.post(ADD_URL, {"public_id": str(therapist.public_id)})
    extra = therapists[-1]
    response = client.post(ADD_URL, {"public_id": str(extra.public_id)}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assertContains(response, f"holds up to {SHORTLIST_LIMIT} therapists")
    assert f'action="{ADD_URL}"' in response.content.decode()
    assert str(extra.public_id) not in client.session[SESSION_KEY]


def test_saving_a_hidden_therapist_is_not_found_and_writes_nothing(client):
    hidden = make_therapist(is_listed=False)
    response = client.post(ADD_URL, {"public_id": str(hidden.public_id)}, HTTP_HX_REQUEST="true")
    assert response.status_code == 404
    assert client.session.get(SESSION_KEY, []) == []


def test_shortlist_page_cards_have_book_but_no_second_save_button(client):
    therapist = make_therapist(display_name="Eve Listed", consultation_minutes=15)
    client.post(ADD_URL, {"public_id": str(therapist.public_id)})
    page = client.get(SHORTLIST_URL).content.decode()
    card = card_html(page, therapist.public_id)
    assert f'href="/therapists/{therapist.public_id}/book/"' in card
    assert "save-button-" not in card
    assertContains(client.get(SHORTLIST_URL), "Sign in</a> to keep it with your account")


# --- the account's shortlist -------------------------------------------------------------------


def test_signed_in_shortlist_is_kept_with_the_account_and_survives_sign_out_and_in(client):
    user = make_user()
    therapist = make_therapist(display_name="Fay Kept")
    sign_in(client, user)
    client.post(ADD_URL, {"public_id": str(therapist.public_id)})
    assert account_ids(user) == [str(therapist.public_id)]
    assert client.session.get(SESSION_KEY) is None  # the account's rows are the one list

    client.post("/accounts/logout/")
    assertNotContains(client.get(SHORTLIST_URL), "Fay Kept")

    other_browser = Client()
    sign_in(other_browser, user)
    page = other_browser.get(SHORTLIST_URL)
    assertContains(page, "Fay Kept")
    assertContains(page, "Kept with your account")
    # The card on the search page says Saved there too.
    card = card_html(other_browser.get(SEARCH_URL).content.decode(), therapist.public_id)
    assert ">Saved<" in card


def test_signed_in_remove_deletes_the_row(client):
    user = make_user()
    therapist = make_therapist()
    client.force_login(user)
    client.post(ADD_URL, {"public_id": str(therapist.public_id)})
    client.post(ADD_URL, {"public_id": str(therapist.public_id)})  # twice: still one row
    assert ShortlistEntry.objects.filter(user=user).count() == 1
    client.post(REMOVE_URL, {"public_id": str(therapist.public_id)})
    assert account_ids(user) == []


def test_sign_in_merges_the_session_list_without_duplicates_in_order(client):
    user = make_user()
    a, b, c = (make_therapist(display_name=name) for name in ("A One", "B Two", "C Three"))
    ShortlistEntry.objects.create(user=user, therapist=a)
    ShortlistEntry.objects.create(user=user, therapist=b)
    for therapist in (b, c):
        client.post(ADD_URL, {"public_id": str(therapist.public_id)})
    assert client.session[SESSION_KEY] == [str(b.public_id), str(c.public_id)]

    sign_in(client, user)

    assert account_ids(user) == [str(a.public_id), str(b.public_id), str(c.public_id)]
    assert client.session.get(SESSION_KEY) is None
    page = client.get(SHORTLIST_URL).content.decode()
    assert page.index("A One") < page.index("B Two") < page.index("C Three")


def test_sign_in_merge_stays_within_the_cap(client):
    user = make_user()
    already = [make_therapist() for _ in range(SHORTLIST_LIMIT - 1)]
    for therapist in already:
        ShortlistEntry.objects.create(user=user, therapist=therapist)
    first_new, second_new, third_new = (make_therapist() for _ in range(3))
    for therapist in (already[0], first_new, second_new, third_new):
        client.post(ADD_URL, {"public_id": str(therapist.public_id)})

    sign_in(client, user)

    ids = account_ids(user)
    assert len(ids) == SHORTLIST_LIMIT
    assert ids[-1] == str(first_new.public_id)  # the first of the session's new ones fits
    assert str(second_new.public_id) not in ids

    # And a signed-in save at the cap is refused with a message, writing nothing.
    response = client.post(ADD_URL, {"public_id": str(third_new.public_id)}, follow=True)
    assertContains(response, f"holds up to {SHORTLIST_LIMIT} therapists")
    assert len(account_ids(user)) == SHORTLIST_LIMIT


def test_another_persons_shortlist_is_never_shown(client):
    owner, stranger = make_user(), make_user()
    therapist = make_therapist(display_name="Gus Private")
    ShortlistEntry.objects.create(user=owner, therapist=therapist)

    client.force_login(stranger)
    assertNotContains(client.get(SHORTLIST_URL), "Gus Private")
    card = card_html(client.get(SEARCH_URL).content.decode(), therapist.public_id)
    assert f'action="{ADD_URL}"' in card  # not "Saved" for the stranger
    # The stranger's remove touches only their own list.
    client.post(REMOVE_URL, {"public_id": str(therapist.public_id)})
    assert account_ids(owner) == [str(therapist.public_id)]
    # Nor does a visitor see it.
    assertNotContains(Client().get(SHORTLIST_URL), "Gus Private")


def test_export_lists_the_saved_therapists():
    user, other = make_user(), make_user()
    saved_at = dt.datetime(2026, 3, 4, 5, 6, tzinfo=dt.UTC)
    therapist = make_therapist(display_name="Hal Export")
    ShortlistEntry.objects.create(user=user, therapist=therapist, saved_at=saved_at)
    ShortlistEntry.objects.create(user=other, therapist=make_therapist())

    section = account_export_data(user=user)["shortlist"]

    assert section == [
        {
            "therapist": str(therapist.public_id),
            "display_name": "Hal Export",
            "saved_at": "2026-03-04T05:06:00+00:00",
        }
    ]


def test_account_deletion_erases_only_that_persons_shortlist():
    user, other = make_user(), make_user()
    therapist = make_therapist()
    ShortlistEntry.objects.create(user=user, therapist=therapist)
    ShortlistEntry.objects.create(user=other, therapist=therapist)

    account_delete(user=user)

    assert not ShortlistEntry.objects.filter(user_id=user.pk).exists()
    assert account_ids(other) == [str(therapist.public_id)]


# --- compare -------------------------------------------------------------------------------------


def test_compare_shows_the_next_free_time_in_the_table_and_the_phone_blocks(client):
    soon = (timezone.now() + dt.timedelta(days=2)).replace(second=0, microsecond=0)
    first = make_therapist(
        display_name="Ivy Soon", consultation_minutes=20, next_consultation_at=soon
    )
    second = make_therapist(display_name="Jo Later", consultation_minutes=20)
    third = make_therapist(display_name="Ken None", consultation_minutes=0)
    response = client.get(
        COMPARE_URL, {"id": [str(first.public_id), str(second.public_id), str(third.public_id)]}
    )
    assert response.status_code == 200
    local = soon.astimezone(ZoneInfo("America/Toronto"))
    expected = (
        f"{local:%A}, {local:%B} {local.day}, {local.year} at {clock(local)} Eastern Time (Toronto)"
    )
    assertContains(
        response,
        f'<tr><th scope="row">Next free consultation</th><td>{expected}</td>'
        "<td>No free time open right now</td><td>Not offered</td></tr>",
        html=True,
    )
    # On a phone: one block per therapist, each value under its label.
    page = response.content.decode()
    block = re.search(
        rf'<section class="compare-block" aria-labelledby="compare-block-{first.public_id}">'
        r"(.*?)</section>",
        page,
        re.S,
    )
    assert block
    assert f"<dt>Next free consultation</dt><dd>{expected}</dd>" in block.group(1)
    assert "<dt>Fee per session</dt><dd>CA$150 (50 minutes)</dd>" in block.group(1)


def test_profile_page_shows_the_accounts_saved_state(client):
    user = make_user()
    therapist = make_therapist(display_name="Lia Profile")
    ShortlistEntry.objects.create(user=user, therapist=therapist)
    profile = f"/therapists/{therapist.public_id}/"

    assertContains(Client().get(profile), "Save to shortlist")
    client.force_login(user)
    response = client.get(profile)
    assertContains(response, "Remove from shortlist")
    assertNotContains(response, "Save to shortlist")
