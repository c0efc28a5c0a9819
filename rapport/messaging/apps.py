from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "rapport.messaging"
    label = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from rapport.booking.hooks import register_book_form_part, register_reply_minutes_source
        from rapport.core.audit import register_health_model
        from rapport.core.crypto import register_extra_secrets
        from rapport.core.housekeeping import register_housekeeping_step
        from rapport.core.privacy import register_erasure_step, register_export_section
        from rapport.core.problems import register_problem_handler
        from rapport.directory.profile_parts import register_profile_part
        from rapport.messaging.api import messaging_problem
        from rapport.messaging.attachment_keys import AttachmentSecrets
        from rapport.messaging.errors import MessagingError
        from rapport.messaging.models import Message, MessageAttachment, Thread
        from rapport.messaging.policy_parts import book_form_policy_part, profile_hours_part
        from rapport.messaging.privacy import messaging_export
        from rapport.messaging.reply_times import message_reply_minutes
        from rapport.messaging.services import client_threads_erase, message_digests_send

        # What either person writes is about the client: encrypted and audited.
        register_health_model(Message, owner_field="thread__client")
        # That a client writes to a therapist, and why, says they are (or may become) a client.
        register_health_model(Thread, owner_field="client")
        # An attachment's file name is the sender's words (encrypted); each download is read.
        register_health_model(MessageAttachment, owner_field="message__thread__client")
        register_export_section("messaging", messaging_export)
        # Attachment files are sealed with the field keys: rotated with them.
        register_extra_secrets(AttachmentSecrets())
        # A client's threads go with their account; a therapist's profile (and the threads of
        # their clients, which are those clients' records) outlives the therapist's account.
        register_erasure_step("messaging", lambda user: client_threads_erase(user=user))
        register_problem_handler(MessagingError, messaging_problem)
        # One e-mail a day per therapist inside their hours, with a count and no content.
        register_housekeeping_step(
            "message digests sent", lambda now: message_digests_send(now=now)
        )
        # Replies to clients' messages count in booking's "usually replies within" figure.
        register_reply_minutes_source("messaging", message_reply_minutes)
        # The contact hours before booking, in the visitor's zone: on the public profile and
        # the booking form (apps below messaging, which offer these registries).
        register_profile_part("messaging", profile_hours_part)
        register_book_form_part("messaging", book_form_policy_part)
