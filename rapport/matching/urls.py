from django.urls import URLPattern, URLResolver, path

from rapport.matching import views, views_rematch, views_shared

app_name = "matching"

urlpatterns: list[URLPattern | URLResolver] = [
    path("match/", views.start, name="start"),
    path("match/q/<slug:step>/", views.question, name="question"),
    path("match/results/", views.results, name="results"),
    path("match/results/relax/", views.relax, name="relax"),
    path("match/profile/", views.profile, name="profile"),
    path("match/profile/delete/", views.profile_delete, name="profile_delete"),
    path(
        "match/profile/did-not-fit/remove/",
        views.profile_misfit_remove,
        name="profile_misfit_remove",
    ),
    path("match/rematch/<uuid:public_id>/", views_rematch.rematch, name="rematch"),
    # The fit profile shared at booking: the therapist's page (under /practice/, so the second
    # factor is required) and the client's list of who sees it.
    path(
        "practice/appointments/<uuid:public_id>/fit-profile/",
        views_shared.shared_profile,
        name="shared_profile",
    ),
    path("match/sharing/", views_shared.sharing_list, name="sharing"),
    path("match/sharing/<uuid:public_id>/", views_shared.sharing_set, name="sharing_set"),
]
