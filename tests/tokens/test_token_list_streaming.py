"""token_list holds one chunk of rows at a time: it writes the first rows before it has read the others, reads
every row in one query whatever their number, and reads no column a row does not show."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db.models.signals import post_init

from tests.support.bulk_tokens_support import make_tokens
from tests.support.paging_support import capture
from tokens.management.commands.token_list import CHUNK
from tokens.models import PersonalAccessToken

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ROWS = CHUNK * 2 + 100


class OutputClosed(Exception):
    """What a reader going away (``token_list | head``) looks like to the command."""


class ClosingOutput(io.StringIO):
    """An output that goes away after ``lines`` writes."""

    def __init__(self, lines: int) -> None:
        super().__init__()
        self.left = lines

    def write(self, text: str) -> int:
        if not self.left:
            raise OutputClosed
        self.left -= 1
        return super().write(text)


@pytest.mark.parametrize("json_output", [False, True])
def test_token_list_writes_rows_before_reading_them_all(demo, json_output):
    make_tokens(demo.alice, ROWS, start=T0)
    made: list[object] = []

    def count(sender: type, instance: object, **kwargs: object) -> None:
        made.append(instance)

    post_init.connect(count, sender=PersonalAccessToken)
    try:
        with pytest.raises(OutputClosed):
            call_command("token_list", json=json_output, stdout=ClosingOutput(lines=3))
    finally:
        post_init.disconnect(count, sender=PersonalAccessToken)
    # A listing that read every token before writing would have made all of them.
    assert 0 < len(made) <= CHUNK < ROWS


@pytest.mark.parametrize("json_output", [False, True])
def test_token_list_reads_every_row_in_one_query(demo, json_output):
    make_tokens(demo.alice, ROWS, start=T0)
    output = io.StringIO()
    with capture() as queries:
        call_command("token_list", json=json_output, stdout=output)
    own = [query["sql"] for query in queries.captured_queries if "tokens_personalaccesstoken" in query["sql"]]
    assert len(own) == 1 and "LIMIT" not in own[0]
    assert output.getvalue().count(demo.alice.login) >= ROWS


@pytest.mark.parametrize("json_output", [False, True])
def test_token_list_reads_no_secret_digest_nor_password(demo, json_output):
    make_tokens(demo.alice, 3, start=T0)
    with capture() as queries:
        call_command("token_list", json=json_output, stdout=io.StringIO())
    (sql,) = [query["sql"] for query in queries.captured_queries if "tokens_personalaccesstoken" in query["sql"]]
    assert '"digest"' not in sql and '"password"' not in sql and '"recent_uses"' not in sql
    assert ('T3."login"' in sql) is json_output  # the creator is shown in JSON only
