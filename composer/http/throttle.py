"""Login throttling: the rules django-axes applies (settings AXES_*, docs/operations.md).

- A failed login (the login page, the admin's) counts against the user name it tried and against
  the client address; each is locked on its own once it has PODSTUDIO_LOGIN_FAILURE_LIMIT failures,
  until PODSTUDIO_LOGIN_COOLOFF_MINUTES after the latest one. Counts live in the database (axes'
  database handler), so every server process sees the same ones.
- A failed API token (composer.services.access.ApiTokenMiddleware) names no user: it counts against the
  client address only.
- A successful login clears the failures of that user name from that address, and nothing else.
- A locked-out attempt is answered 429 with a Retry-After: the login page saying how long to wait,
  or JSON for API token requests. It is not counted (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT
  is off): the wait does not grow while someone keeps trying, and neither do axes' rows, which
  append each counted attempt's query string and form.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime, timedelta

from axes.helpers import get_client_parameters, get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt, AccessBase
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

# What a failed API token reports to axes as its credentials: no user name (and no secret).
TOKEN_CREDENTIALS = {"api_token": "********"}


def lockout_parameters(request_or_attempt: HttpRequest | AccessBase, credentials: dict | None = None) -> list:
    """AXES_LOCKOUT_PARAMETERS: the user name and the address, each on its own; the address alone
    when no user name was given (API tokens), else every token failure would share one "None" user."""
    if isinstance(request_or_attempt, AccessBase):
        username = request_or_attempt.username
    else:
        username = get_client_username(request_or_attempt, credentials)
    return ["username", "ip_address"] if username else ["ip_address"]


def client_address(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: REMOTE_ADDR, or behind PODSTUDIO_PROXY_COUNT proxies that each append
    the address they saw to X-Forwarded-For, that many entries from the right (a client can forge
    only what stands left of them)."""
    remote = request.META.get("REMOTE_ADDR")
    count = settings.PODSTUDIO_PROXY_COUNT
    if count > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(hops) >= count:
            try:
                return str(ipaddress.ip_address(hops[-count]))
            except ValueError:
                pass
    return remote


def wait_words(delta: timedelta) -> str:
    seconds = math.ceil(delta.total_seconds())
    if seconds >= 3600 and seconds % 3600 == 0:
        amount, unit = seconds // 3600, "hour"
    elif seconds >= 60:
        amount, unit = math.ceil(seconds / 60), "minute"
    else:
        amount, unit = seconds, "second"
    return f"{amount} {unit}{'' if amount == 1 else 's'}"


def lockout_ends(request: HttpRequest, credentials: dict | None) -> datetime:
    """When the lockout of this request ends: for each of its locked parameters (user name, address),
    when enough of the counted attempts have expired to bring the sum below the limit. (Axes counts
    per record of user name, address and user agent, each with the time of its latest failure.)"""
    now = timezone.now()
    cool_off = get_cool_off(request)
    limit = get_failure_limit(request, credentials)
    username = get_client_username(request, credentials)
    ends = now
    for parameters in get_client_parameters(username, request.axes_ip_address, request.axes_user_agent, request,
                                            credentials):
        attempts = AccessAttempt.objects.filter(**parameters, attempt_time__gte=now - cool_off).order_by("attempt_time")
        counted = list(attempts.values_list("attempt_time", "failures_since_start"))
        total = sum(failures for _, failures in counted)
        for attempt_time, failures in counted:
            if total < limit:
                break
            total -= failures
            ends = max(ends, attempt_time + cool_off)
    return ends


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict | None = None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: a 429 that says how long to wait, in words and in Retry-After."""
    credentials = credentials or getattr(request, "axes_credentials", None)
    wait = max(lockout_ends(request, credentials) - timezone.now(), timedelta(seconds=1))
    words = wait_words(wait)
    if request.headers.get("Authorization", "").startswith("Bearer "):
        response: HttpResponse = JsonResponse(
            {"error": f"too many failed API token attempts from this address: try again in {words}"},
            status=settings.AXES_HTTP_RESPONSE_CODE,
        )
    else:
        message = f"Too many failed logins for this user name or from this address. Try again in {words}."
        form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
        context = {"form": form, "lockout": message, "next": request.POST.get("next", "")}
        response = render(request, "registration/login.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
    response["Retry-After"] = str(math.ceil(wait.total_seconds()))
    return response


@receiver(user_logged_in)
def forget_failures_of_this_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """A successful login explains the failures of that user name from that address (typos): clear
    those. Not the address's other failures, nor the user name's from elsewhere: logging in to one's
    own account must not reset the count of someone guessing another password from the same place."""
    if request is None or not settings.AXES_ENABLED:
        return
    AccessAttempt.objects.filter(username=user.get_username(), ip_address=client_address(request)).delete()
