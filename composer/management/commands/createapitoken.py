from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from composer.services.access import issue_token


class Command(BaseCommand):
    help = "Creates an API token for a user and prints it (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("name", help="what the token is for, e.g. 'ci-pipeline'")

    def handle(self, *args, username: str, name: str, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user {username!r}") from None
        self.stdout.write(issue_token(user, name))
