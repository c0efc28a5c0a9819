from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "rapport.messaging"
    label = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from rapport.core.audit import register_health_model
        from rapport.messaging.models import Message, Thread

        # What either person writes is about the client: encrypted and audited.
        register_health_model(Message, owner_field="thread__client")
        # That a client writes to a therapist, and why, says they are (or may become) a client.
        register_health_model(Thread, owner_field="client")
