"""The client account for an address the person has proved is theirs (booking's confirmation
link uses it): made once, reused when confirmed, refused when someone else's is unconfirmed."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from rapport.accounts.models import User
from rapport.accounts.services import AddressNotConfirmed, client_account_for_proven_address
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_a_new_address_gets_a_client_account_with_a_verified_address_and_no_password():
    user = client_account_for_proven_address(email=" Sam@Example.org ", name="Sam Client")

    assert (user.email, user.name, user.role) == ("sam@example.org", "Sam Client", "client")
    assert not user.has_usable_password()
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified")) == [
        ("sam@example.org", True)
    ]
    # The same address again: the same account, nothing new.
    assert client_account_for_proven_address(email="sam@example.org").pk == user.pk
    assert User.objects.count() == 1


def test_an_account_whose_address_is_not_confirmed_is_not_handed_over():
    make_user(email="sam@example.org", verified_email=False)

    with pytest.raises(AddressNotConfirmed):
        client_account_for_proven_address(email="sam@example.org", name="Someone")

    assert User.objects.count() == 1
