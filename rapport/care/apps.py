from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "rapport.care"
    label = "care"
    verbose_name = "Care"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from rapport.booking.hooks import (
            register_appointment_change_hook,
            register_dashboard_part,
            register_first_session_hook,
        )
        from rapport.care.api_checkins import check_in_problem
        from rapport.care.api_graduation import graduation_problem
        from rapport.care.errors import CheckInError
        from rapport.care.models import Alert, CheckIn, CheckInPart, Engagement, Goal, Session
        from rapport.care.privacy import care_export
        from rapport.care.services import (
            GraduationConflict,
            check_ins_expire,
            client_engagements_erase,
            engagement_for_first_session,
            session_follow_appointment,
        )
        from rapport.care.views.results import dashboard_alerts
        from rapport.core.audit import register_health_model
        from rapport.core.housekeeping import register_housekeeping_step
        from rapport.core.privacy import register_erasure_step, register_export_section
        from rapport.core.problems import register_problem_handler

        # The end reason and the goals are what the client or therapist wrote about the client;
        # the sharing choice is the client's consent, so its changes are audited too.
        register_health_model(Engagement, owner_field="client")
        register_health_model(Goal, owner_field="engagement__client")
        # That someone attends therapy, and when, is health information even without a text.
        register_health_model(Session, owner_field="engagement__client")
        # Check-in answers, scores and goal ratings are what the client said about themselves;
        # an alert's note is what the therapist did about the client.
        register_health_model(CheckIn, owner_field="engagement__client")
        register_health_model(CheckInPart, owner_field="check_in__engagement__client")
        # What an alert is about (a crisis, a low alliance, the weakest subscale) says something
        # about the client's answers: the append-only log says that it changed, not what.
        register_health_model(
            Alert, owner_field="engagement__client", masked_fields=("kind", "subscale")
        )
        register_export_section("care", care_export)
        register_problem_handler(CheckInError, check_in_problem)
        register_problem_handler(GraduationConflict, graduation_problem)
        register_erasure_step("care", lambda user: client_engagements_erase(user=user))
        register_first_session_hook(
            "care",
            lambda consultation, session: engagement_for_first_session(
                consultation=consultation, session=session
            ),
        )
        # A booked session moved or cancelled in booking is moved or cancelled here too.
        register_appointment_change_hook(
            "care", lambda appointment: session_follow_appointment(appointment=appointment)
        )
        # Open crisis alerts on the practice home, without content.
        register_dashboard_part("care-alerts", dashboard_alerts)
        register_housekeeping_step(
            "check-in requests expired", lambda now: check_ins_expire(now=now)
        )
        # The built-in instruments are data in the database like loaded ones; a new version
        # of one arrives with the code and is stored after the next migration.
        post_migrate.connect(_install_builtins, sender=self)


def _install_builtins(**kwargs: object) -> None:
    from rapport.care.services import instrument_builtins_install

    instrument_builtins_install()
