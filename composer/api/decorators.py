"""What every API view shares: allowed methods, JSON bodies read strictly, and one error shape.

Every error is a 4xx JSON body `{"error": …, "errors": {field: message}}` with the status of
composer/http/errors.py, the same as the pages give for the same refusal; nothing is saved on failure.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from composer.domain import edits
from composer.domain.model import CompositionError
from composer.http.errors import status_for
from composer.services.imports import ImportRefused

JSON_TYPES = ("application/json",)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")


class ApiError(Exception):
    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors or {}

    def response(self) -> JsonResponse:
        body: dict[str, Any] = {"error": self.message}
        if self.errors:
            body["errors"] = self.errors
        return JsonResponse(body, status=self.status)


def api_view(*methods: str) -> Callable:
    """Allows only `methods`; turns every user error into a JSON 4xx.

    The API is exempt from the CSRF token because it accepts only JSON and YAML
    bodies: a browser cannot send those cross-site without a CORS preflight.
    """

    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = ApiError(405, f"method {request.method} not allowed here").response()
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except RequestDataTooBig:
                limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
                return ApiError(413, f"the body is too large: the limit is {limit:,} bytes").response()
            except ApiError as error:
                return error.response()
            except (CompositionError, edits.EditError) as error:
                message = "invalid composition" if isinstance(error, CompositionError) else str(error)
                return ApiError(400, message, error.errors).response()
            except ImportRefused as error:
                position = {"line": str(error.line), "column": str(error.column)} if error.line is not None else {}
                return ApiError(400, error.message, position).response()
            except Exception as error:
                status = status_for(error)
                if status is None:
                    raise
                return ApiError(status, getattr(error, "message", None) or str(error)).response()

        return wrapper

    return decorate


def content_type(request: HttpRequest) -> str:
    return request.content_type.split(";")[0].strip().lower()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large a number")
    return number


def json_body(request: HttpRequest) -> Any:
    if content_type(request) not in JSON_TYPES:
        raise ApiError(415, "send the body as JSON with Content-Type: application/json")
    try:
        body = json.loads(request.body or b"null", parse_constant=_refuse_constant, parse_float=_finite_float)
        # Lone surrogates ("\ud800") decode, but could never be stored or shown.
        json.dumps(body, ensure_ascii=False).encode()
    except RecursionError:
        raise ApiError(400, "the body is not valid JSON: nested too deeply") from None
    except (ValueError, UnicodeError) as error:
        raise ApiError(400, f"the body is not valid JSON: {error}") from None
    return body


def json_object(request: HttpRequest) -> dict[str, Any]:
    body = json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body
