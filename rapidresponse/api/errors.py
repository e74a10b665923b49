"""How the API answers what goes wrong: a 4xx with `{"detail", "errors"}` in the caller's
language (schemas.Problem), never a 500 for anything a caller can send."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError

from rapidresponse.evidence.inspect import Refused
from rapidresponse.incidents.actions import FindingRefused, TransitionError
from rapidresponse.lib.errors import InvalidInput

# Messages for the errors django-ninja and pydantic raise in English, by pydantic error type.
SCHEMA_MESSAGES = {
    "missing": gettext_lazy("This field is required."),
    "int_parsing": gettext_lazy("Enter a whole number."),
    "int_type": gettext_lazy("Enter a whole number."),
    "int_from_float": gettext_lazy("Enter a whole number."),
    "float_parsing": gettext_lazy("Enter a number."),
    "float_type": gettext_lazy("Enter a number."),
    "bool_parsing": gettext_lazy("Enter true or false."),
    "bool_type": gettext_lazy("Enter true or false."),
    "string_type": gettext_lazy("Enter text."),
    "list_type": gettext_lazy("Enter a list."),
    "model_attributes_type": gettext_lazy("Send a JSON object."),
    "dict_type": gettext_lazy("Send a JSON object."),
    "greater_than_equal": gettext_lazy("Enter a number of at least %(ge)s."),
    "less_than_equal": gettext_lazy("Enter a number of at most %(le)s."),
    "enum": gettext_lazy("Choose one of these values: %(expected)s."),
    "literal_error": gettext_lazy("Choose one of these values: %(expected)s."),
}


def field_message(error: dict[str, Any]) -> str:
    """One pydantic error as a message in the active language, with its bounds or choices."""
    message = SCHEMA_MESSAGES.get(error.get("type", ""))
    if message is None:
        return _("This value is not valid.")
    context = dict(error.get("ctx") or {})
    if "expected" in context:  # "'a', 'b' or 'c'": the values, without pydantic's English
        context["expected"] = ", ".join(re.findall(r"'([^']*)'", str(context["expected"])))
    try:
        return str(message) % context
    except (KeyError, TypeError, ValueError):
        return str(message)


def install(api: NinjaAPI) -> None:
    """The exception handlers of `api`."""

    @api.exception_handler(InvalidInput)
    def invalid_input(request: HttpRequest, exc: InvalidInput) -> Any:
        return api.create_response(request, {"detail": _("Some fields are not valid."),
                                             "errors": exc.errors}, status=400)

    @api.exception_handler(Refused)
    def refused_upload(request: HttpRequest, exc: Refused) -> Any:
        """An upload we do not keep: too large (413), not a type we take (415), a picture
        with too many pixels (400)."""
        return api.create_response(request, {"detail": exc.message}, status=exc.status)

    @api.exception_handler(TransitionError)
    def wrong_state(request: HttpRequest, exc: Exception) -> Any:
        return api.create_response(request, {"detail": str(exc)}, status=409)

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: Exception) -> Any:
        # A refusal that says why (a finding that would not count) keeps its reason.
        detail = (str(exc) if isinstance(exc, FindingRefused)
                  else _("You are not allowed to do this."))
        return api.create_response(request, {"detail": detail}, status=403)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Exception) -> Any:
        return api.create_response(request, {"detail": _("Not found.")}, status=404)

    @api.exception_handler(SchemaError)
    def invalid_schema(request: HttpRequest, exc: SchemaError) -> Any:
        """Wrong types, bounds or choices: a message per field, in the user's language."""
        errors: dict[str, str] = {}
        for error in exc.errors:
            path = [str(p) for p in error.get("loc", ())
                    if p not in ("body", "payload", "query", "path") and not isinstance(p, int)]
            errors.setdefault(".".join(path) or "__all__", field_message(error))
        return api.create_response(request, {"detail": _("Some fields are not valid."),
                                             "errors": errors}, status=422)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> Any:
        """Our own HttpErrors are already translated; these are django-ninja's English ones."""
        message = str(exc)
        if isinstance(exc, AuthenticationError):
            message = _("Sign in first: send a valid API token (Authorization: Bearer).")
        elif message.startswith("Cannot parse request body"):
            message = _("The request body is not valid JSON.")
        return api.create_response(request, {"detail": message}, status=exc.status_code)
