"""HEAD on the REST API: a URL's ``GET`` without the body (RFC 9110 §9.3.2), the same status and headers.

ninja routes by method and knows no HEAD (it would answer 405), so :class:`HeadLikeGet` hands the request on as
the GET it stands for, and the OpenAPI document lists GET only. An endpoint whose body is costly to produce (a
file's bytes, which may have to be fetched from an object store) asks :func:`stands_for_head` and answers with
the headers alone.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase


def stands_for_head(request: HttpRequest) -> bool:
    """Whether this GET is a HEAD that :class:`HeadLikeGet` handed on: its body will not be sent. The method the
    client sent stays in the WSGI environ."""
    return request.method == "GET" and request.META.get("REQUEST_METHOD") == "HEAD"


class HeadLikeGet:
    """Middleware: ``HEAD`` on an API URL is answered as its ``GET``, and the body dropped; ``Content-Length``
    stays that of the body a GET sends. Outside Django's CommonMiddleware, which gives a JSON body its
    Content-Length."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method != "HEAD" or not request.path_info.startswith("/api/"):
            return self.get_response(request)
        request.method = "GET"
        try:
            response = self.get_response(request)
        finally:
            request.method = "HEAD"
        # A streamed body is closed unread when the server closes the response.
        if isinstance(response, StreamingHttpResponse):
            response.streaming_content = []
        elif isinstance(response, HttpResponse):
            response.content = b""
        return response
