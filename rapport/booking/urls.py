from django.urls import URLPattern

app_name = "booking"

# Pages: client booking flow and token links (views.py), the therapist's practice pages
# (views.py), and the private calendar feed (feeds.py).
urlpatterns: list[URLPattern] = []
