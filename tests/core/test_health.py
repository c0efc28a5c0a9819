import json
import logging
from unittest import mock

import pytest
from django.db import OperationalError, connections


@pytest.mark.django_db
def test_healthz_reports_ok_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_healthz_is_never_cached(client):
    response = client.get("/healthz")

    assert "no-store" in response["Cache-Control"]


def test_healthz_reports_503_without_details_when_the_database_fails(client, caplog):
    failure = OperationalError('could not connect to server: host "db.internal" port 5432')
    with (
        mock.patch.object(connections["default"], "cursor", side_effect=failure),
        caplog.at_level(logging.ERROR, logger="rapport.core.views"),
    ):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "error", "database": "unavailable"}
    assert b"db.internal" not in response.content
    # The operator still gets the cause, in the log rather than the public response.
    assert "db.internal" in caplog.text


def test_healthz_refuses_writes(client):
    assert client.post("/healthz").status_code == 405
