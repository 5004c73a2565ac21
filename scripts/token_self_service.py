"""What a CI job does with nothing but a token that may manage its owner's tokens (tokens:self), over the REST
API: look at itself, list its owner's tokens, make a narrower token for a job step, rotate itself, delete the
step's token, and find that it cannot make a token stronger than itself.

    CELLSADMIN_TOKEN=cpat_… python scripts/token_self_service.py http://127.0.0.1:8000 --write-token token.txt

The rotated token is written to the file (mode 600) given with --write-token, for the next run; the old one is
refused from then on. Standard library only; exits non-zero when any step answers otherwise than expected.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class Api:
    def __init__(self, base: str, token: str) -> None:
        self.base = base.rstrip("/") + "/api/v1"
        self.token = token

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = None) -> tuple[int, Any, str]:
        """(status, JSON body or None, Link header) of one call; an error status is an answer, not an exception."""
        url = path if path.startswith("http") else self.base + path
        request = urllib.request.Request(url, method=method)  # noqa: S310 (the URL the person gave)
        request.add_header("Authorization", f"Bearer {token or self.token}")
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, data, timeout=30) as response:  # noqa: S310
                raw = response.read()
                return response.status, json.loads(raw) if raw else None, response.headers.get("Link", "")
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None, ""


def expect(step: str, status: int, wanted: int, body: Any) -> None:
    if status != wanted:
        sys.exit(f"{step}: expected {wanted}, got {status}: {body}")
    print(f"ok  {step} ({status})")


def narrower(scopes: list[str]) -> list[str]:
    """The calling token's scopes made read-only and without token management: a step's token never needs more."""
    nodes = [scope.rsplit(":", 1)[0] + ":r" for scope in scopes if scope.startswith("node:") and "r" in scope[-2:]]
    others = [scope for scope in scopes if scope.startswith(("protocol:", "ip:"))]
    return (nodes or ["node:*:r"]) + others


def stronger(scopes: list[str]) -> list[str]:
    """Scopes that reach further than the calling token's: write everywhere where it is narrowed to nodes, else
    every protocol or every address where it is narrowed to some, else everyone's tokens."""
    mine = narrower(scopes)
    if any(scope.startswith("node:") for scope in scopes):
        return [*mine, "node:*:rw"]
    for kind in ("protocol:", "ip:"):
        if any(scope.startswith(kind) for scope in scopes):
            return [scope for scope in mine if not scope.startswith(kind)]
    return [*mine, "tokens:all"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the instance, e.g. http://127.0.0.1:8000")
    parser.add_argument("--write-token", type=Path, help="where to write the rotated token (default: print it)")
    options = parser.parse_args()
    token = os.environ.get("CELLSADMIN_TOKEN", "")
    if not token:
        sys.exit("set CELLSADMIN_TOKEN to a token with the tokens:self scope")
    api = Api(options.url, token)

    status, me, _ = api.call("GET", "/tokens/self")
    expect("who am I", status, 200, me)
    print(f"    {me['label']} ({me['public_id']}) of {me['owner']}, scopes {me['scopes']}, ends {me['expires_at']}")

    listed, url = [], "/tokens?limit=100"
    while url:
        status, page, link = api.call("GET", url)
        expect("list my owner's tokens", status, 200, page)
        listed += page
        url = link[link.index("<") + 1 : link.index(">")] if link else ""
    print(f"    {len(listed)} tokens: {', '.join(item['label'] for item in listed)}")

    asked = {"label": "step token", "model": "hard_limit", "duration": "10m", "scopes": narrower(me["scopes"])}
    status, child, _ = api.call("POST", "/tokens", asked)
    expect("create a narrower token", status, 201, child)
    print(f"    {child['public_id']} with scopes {child['scopes']}")

    status, refused, _ = api.call("POST", "/tokens", {**asked, "label": "stronger", "scopes": stronger(me["scopes"])})
    # tokens:all is refused before any comparison (422) unless the owner is an administrator.
    expect("ask for a stronger token", status, 422 if status == 422 and "tokens:all" in str(refused) else 403, refused)
    print(f"    refused: {refused['detail']}")
    left = datetime.fromisoformat(me["expires_at"].replace("Z", "+00:00")) - datetime.now(UTC)
    outliving = f"{int(left.total_seconds() // 3600) + 2}h"
    status, refused, _ = api.call("POST", "/tokens", {**asked, "label": "longer", "duration": outliving})
    expect("ask for a token that outlives me", status, 403, refused)
    print(f"    refused: {refused['detail']}")

    status, rotated, _ = api.call("POST", "/tokens/self/rotate")
    expect("rotate myself", status, 201, rotated)
    status, body, _ = api.call("GET", "/tokens/self")
    expect("the old secret is refused", status, 401, body)
    api.token = rotated["token"]

    status, body, _ = api.call("DELETE", f"/tokens/{child['uuid']}")
    expect("delete the narrower token", status, 204, body)
    status, body, _ = api.call("GET", "/tokens/self")
    expect("the rotated token works", status, 200, body)

    if options.write_token:
        options.write_token.touch(mode=0o600)
        options.write_token.write_text(rotated["token"] + "\n")
        print(f"    the rotated token is in {options.write_token}")
    else:
        print(rotated["token"])


if __name__ == "__main__":
    main()
