from django.urls import URLPattern, URLResolver, path

from rapport.matching import views, views_rematch

app_name = "matching"

urlpatterns: list[URLPattern | URLResolver] = [
    path("match/", views.start, name="start"),
    path("match/rematch/<uuid:public_id>/", views_rematch.rematch, name="rematch"),
]
