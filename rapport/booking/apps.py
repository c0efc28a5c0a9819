from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "rapport.booking"
    label = "booking"
    verbose_name = "Booking"
