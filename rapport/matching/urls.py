from django.urls import URLPattern, URLResolver, path

from rapport.matching import views, views_rematch

app_name = "matching"

urlpatterns: list[URLPattern | URLResolver] = [
    path("match/", views.start, name="start"),
    path("match/q/<slug:step>/", views.question, name="question"),
    path("match/results/", views.results, name="results"),
    path("match/results/relax/", views.relax, name="relax"),
    path("match/profile/", views.profile, name="profile"),
    path("match/profile/delete/", views.profile_delete, name="profile_delete"),
    path("match/rematch/<uuid:public_id>/", views_rematch.rematch, name="rematch"),
]
