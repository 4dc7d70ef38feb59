from django.apps import AppConfig


class ComposerConfig(AppConfig):
    name = "composer"
    verbose_name = "Pod Studio composer"

    def ready(self) -> None:
        from composer.http import throttle  # noqa: F401  (connects its user_logged_in receiver)
