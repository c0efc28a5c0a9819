from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "rapport.booking"
    label = "booking"
    verbose_name = "Booking"

    def ready(self) -> None:
        from rapport.accounts.sections import register_account_section
        from rapport.booking.account import consultations_account_section
        from rapport.booking.api import (
            not_changeable_problem,
            slot_taken_problem,
            slot_unavailable_problem,
        )
        from rapport.booking.errors import InvalidTransition, SlotTaken, SlotUnavailable
        from rapport.booking.housekeeping import register_booking_housekeeping
        from rapport.booking.importing import availability_part
        from rapport.booking.models import Appointment
        from rapport.booking.privacy import consultations_export
        from rapport.booking.profile import booking_profile_part, consultation_book_url
        from rapport.booking.services import client_appointments_erase
        from rapport.booking.triggers import register_booking_triggers
        from rapport.core.audit import register_health_model
        from rapport.core.privacy import register_erasure_step, register_export_section
        from rapport.core.problems import register_problem_handler
        from rapport.directory.cards import register_consultation_link
        from rapport.directory.importing import register_import_part
        from rapport.directory.profile_parts import register_profile_part

        # The reasons on an appointment are what a client or therapist wrote about the client.
        # The name and address the client gave are masked too: the audit log outlives the
        # account, and deleting it must leave nothing that names the person.
        register_health_model(
            Appointment,
            owner_field="client",
            masked_fields=("client_name", "client_email", "client_phone"),
        )
        register_export_section("consultations", consultations_export)
        register_account_section(
            "consultations", consultations_account_section, order=10, health_data=True
        )
        register_erasure_step("consultations", lambda user: client_appointments_erase(user=user))
        register_booking_triggers()
        register_booking_housekeeping()
        register_profile_part("booking", booking_profile_part)
        register_consultation_link(consultation_book_url)
        register_import_part(availability_part)
        register_problem_handler(SlotTaken, slot_taken_problem)
        register_problem_handler(SlotUnavailable, slot_unavailable_problem)
        register_problem_handler(InvalidTransition, not_changeable_problem)
