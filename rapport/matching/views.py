"""The fit questionnaire, its results and the person's fit profile (pages)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def start(request: HttpRequest) -> HttpResponse:
    """The questionnaire's first page: how long it takes and what happens to the answers."""
    return render(request, "matching/start.html", {})
