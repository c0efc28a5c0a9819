from django.urls import URLPattern, path

from rapport.care import views
from rapport.care.views.repair import client_not_right_fit

app_name = "care"

# The client's engagements under /care/ (signed in); the therapist's clients under
# /practice/clients/ (signed in, with the second factor, by the /practice/ prefix).
urlpatterns: list[URLPattern] = [
    path("care/", views.client_home, name="client_home"),
    path(
        "care/invitations/<uuid:public_id>/accept/",
        views.client_invitation_accept,
        name="client_invitation_accept",
    ),
    path(
        "care/invitations/<uuid:public_id>/decline/",
        views.client_invitation_decline,
        name="client_invitation_decline",
    ),
    # A check-in: signed in, or through the request e-mail's signed link (no sign-in).
    path("care/check-ins/<uuid:public_id>/", views.check_in, name="check_in"),
    path("care/check-ins/link/<str:token>/", views.check_in_link, name="check_in_link"),
    path("care/<uuid:public_id>/", views.client_engagement, name="client_engagement"),
    path("care/<uuid:public_id>/progress/", views.client_progress, name="client_progress"),
    path("care/<uuid:public_id>/goals/", views.client_goals, name="client_goals"),
    path(
        "care/<uuid:public_id>/goals/<int:position>/agree/",
        views.client_goal_agree,
        name="client_goal_agree",
    ),
    path(
        "care/<uuid:public_id>/goals/<int:position>/take/",
        views.client_goal_take,
        name="client_goal_take",
    ),
    path("care/<uuid:public_id>/sharing/", views.client_sharing, name="client_sharing"),
    path("care/<uuid:public_id>/end/", views.client_end, name="client_end"),
    path("care/<uuid:public_id>/graduation/", views.client_graduation, name="client_graduation"),
    path("care/<uuid:public_id>/summary/", views.client_summary, name="client_summary"),
    path(
        "care/<uuid:public_id>/not-the-right-fit/",
        client_not_right_fit,
        name="client_not_right_fit",
    ),
    path("practice/clients/", views.practice_clients, name="practice_clients"),
    path("practice/clients/invite/", views.practice_invite, name="practice_invite"),
    path(
        "practice/clients/waiting/<uuid:public_id>/start/",
        views.practice_start_waiting,
        name="practice_start_waiting",
    ),
    path("practice/clients/<uuid:public_id>/", views.practice_client, name="practice_client"),
    path(
        "practice/clients/<uuid:public_id>/sessions/",
        views.practice_session_record,
        name="practice_session_record",
    ),
    path(
        "practice/clients/<uuid:public_id>/sessions/<uuid:session_id>/",
        views.practice_session_mark,
        name="practice_session_mark",
    ),
    path(
        "practice/clients/<uuid:public_id>/goals/<int:position>/propose/",
        views.practice_goal_propose,
        name="practice_goal_propose",
    ),
    path(
        "practice/clients/<uuid:public_id>/goals/<int:position>/agree/",
        views.practice_goal_agree,
        name="practice_goal_agree",
    ),
    path("practice/clients/<uuid:public_id>/pause/", views.practice_pause, name="practice_pause"),
    path(
        "practice/clients/<uuid:public_id>/resume/", views.practice_resume, name="practice_resume"
    ),
    path("practice/clients/<uuid:public_id>/end/", views.practice_end, name="practice_end"),
    path(
        "practice/clients/<uuid:public_id>/graduation/",
        views.practice_graduation,
        name="practice_graduation",
    ),
    path(
        "practice/clients/<uuid:public_id>/summary/",
        views.practice_summary,
        name="practice_summary",
    ),
    path(
        "practice/clients/<uuid:public_id>/check-ins/",
        views.practice_check_ins,
        name="practice_check_ins",
    ),
    path(
        "practice/alerts/<uuid:public_id>/acknowledge/",
        views.practice_alert_acknowledge,
        name="practice_alert_acknowledge",
    ),
]
