"""gunicorn settings for `make serve`: console, REST API and WebDAV in one WSGI application.

Threads keep slow WebDAV uploads and downloads from holding a whole process; several processes use both cores.
Override with GUNICORN_WORKERS / GUNICORN_THREADS / BIND, or gunicorn's own GUNICORN_CMD_ARGS.
"""

import gc
import multiprocessing
import os

from gunicorn.glogging import Logger  # type: ignore[import-untyped]

from tokens.redaction import RedactTokens

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
# Large WebDAV transfers stream; a slow client must not be killed mid-upload.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "300"))
keepalive = 5
# Each worker listens on its own SO_REUSEPORT socket, so the kernel spreads connections evenly between them
# (with one shared socket, one busy worker can end up holding most keep-alive connections).
reuse_port = True
accesslog = "-"
# The access log shows the peer, X-Forwarded-For (the client behind a load balancer, as the proxy chain wrote
# it; "-" without one), method, path, status and size: no other header. A token a client put into the URL is
# cut to its public id by the RedactingLogger below.
access_log_format = '%(h)s %({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(L)ss'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


class RedactingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, with the filter that keeps tokens out of log lines on each of its handlers (access and
    error log, and syslog or a logconfig when configured): gunicorn's loggers do not pass through Django's."""

    def setup(self, cfg: object) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not any(isinstance(found, RedactTokens) for found in handler.filters):
                    handler.addFilter(RedactTokens())


logger_class = RedactingLogger


def post_worker_init(worker: object) -> None:
    """The application is loaded: its import-time objects (Django's, WsgiDAV's: most of the heap) go out of the
    cyclic collector's sight, so that a full collection walks only what requests allocate (Python's gc.freeze)."""
    gc.freeze()
