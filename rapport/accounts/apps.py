from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rapport.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Session bookkeeping on sign-in and password changes (see signals.py).
        from rapport.accounts import signals  # noqa: F401
        from rapport.accounts.signin import AuthenticatorSecrets
        from rapport.core.crypto import register_extra_secrets

        register_extra_secrets(AuthenticatorSecrets())
