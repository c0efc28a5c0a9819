from django.urls import path

from rapport.directory import views

app_name = "directory"

urlpatterns = [
    path("therapists/", views.therapist_list, name="therapist_list"),
    path("therapists/<uuid:public_id>/", views.therapist_detail, name="therapist_detail"),
]
