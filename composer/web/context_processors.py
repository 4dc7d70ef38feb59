from django.http import HttpRequest

from composer.services.access import team_mode


def mode(request: HttpRequest) -> dict:
    """`team_mode` for every template (the header shows who is logged in, or nothing)."""
    return {"team_mode": team_mode()}
