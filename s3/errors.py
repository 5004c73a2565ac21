"""S3's error responses: a code S3 clients act on, a message for people, an HTTP status, as an XML document."""

from __future__ import annotations

from xml.sax.saxutils import escape


class S3Error(Exception):
    """An S3 error answer. ``code`` is one of S3's (``NoSuchKey``, ``AccessDenied``, …)."""

    def __init__(self, code: str, message: str, status: int = 400, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers or {}

    @classmethod
    def authorization(cls, message: str) -> S3Error:
        return cls("AuthorizationHeaderMalformed", message, 400)

    @classmethod
    def no_such_key(cls) -> S3Error:
        # The same answer for a key that does not exist and one out of the token's reach: never a hint.
        return cls("NoSuchKey", "The specified key does not exist.", 404)

    @classmethod
    def access_denied(cls, message: str = "Access denied.") -> S3Error:
        return cls("AccessDenied", message, 403)

    def document(self, resource: str = "") -> bytes:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(self.code)}</Code><Message>{escape(self.message)}</Message>"
            f"<Resource>{escape(resource)}</Resource></Error>"
        ).encode()
