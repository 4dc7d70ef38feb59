from django.apps import AppConfig


class ComposerConfig(AppConfig):
    name = "composer"
    verbose_name = "Pod Studio composer"
