from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts.signals import user_changed, write_profile_through

        user_changed.connect(write_profile_through, dispatch_uid="accounts.write_profile_through")
