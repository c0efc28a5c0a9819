from django.urls import URLPattern, URLResolver, path

from rapport.matching import views

app_name = "matching"

urlpatterns: list[URLPattern | URLResolver] = [
    path("match/", views.start, name="start"),
]
