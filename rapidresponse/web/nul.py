"""No NUL character reaches a view. PostgreSQL cannot store one in text, so a form field, a
query parameter or a JSON string holding one would end in a 500 wherever it reached the
database; nobody types one. In what a browser sends (the query string, form fields) it is
dropped, and the page then checks what is left as usual, with its own messages; in a JSON
body (the API) it is refused with a 400 in the caller's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from django.http import HttpRequest, HttpResponseBase, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from django.http.request import _ImmutableQueryDict

NUL = "\x00"
JSON_NUL = b"\\u0000"
FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def without_nul(data: QueryDict) -> QueryDict | None:
    """A copy of `data` with every NUL dropped, or None when it holds none."""
    if not any(NUL in key or any(isinstance(v, str) and NUL in v for v in values)
               for key, values in data.lists()):
        return None
    clean = QueryDict(mutable=True, encoding=data.encoding)
    for key, values in data.lists():
        clean.setlist(key.replace(NUL, ""),
                      [v.replace(NUL, "") if isinstance(v, str) else v for v in values])
    clean._mutable = False
    return clean


class DropNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        query = without_nul(request.GET)
        if query is not None:
            request.GET = cast("_ImmutableQueryDict", query)
        if request.method in ("POST", "PUT", "PATCH"):
            if request.content_type in FORMS:
                try:
                    form = without_nul(request.POST)
                except MultiPartParserError:
                    form = None  # not a form after all: the view answers that (a 400)
                if form is not None:
                    request.POST = cast("_ImmutableQueryDict", form)
            elif NUL.encode() in request.body or JSON_NUL in request.body:
                return JsonResponse({"detail": _(
                    "The request holds a character that is not allowed (NUL).")}, status=400)
        return self.get_response(request)
