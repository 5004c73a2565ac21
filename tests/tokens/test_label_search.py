"""The inventory's label search (``label_contains``) goes through an index where one serves, and returns exactly
what ``label__icontains`` returns; on SQLite the search table stays in step with the tokens however they change."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.filters import InventoryFilter
from tokens.models import FEW_MATCHES, PersonalAccessToken
from tokens.services import prune_after_retention, token_delete, token_rotate

ON_SQLITE = connection.vendor == "sqlite"
sqlite_only = pytest.mark.skipif(not ON_SQLITE, reason="the FTS5 search table is SQLite's")

#: Letters whose case SQLite's LIKE folds (ASCII) and does not (the others), LIKE's special characters, quotes.
CHARS = st.sampled_from(list("abcABCxyzXYZ %_\\'\"éÉßİıKΣσς-0"))


def rows(owner, labels: list[str]) -> list[PersonalAccessToken]:
    """Bare token rows (bulk_create: no secret needed to be searched)."""
    now = timezone.now()
    return PersonalAccessToken.objects.bulk_create(
        PersonalAccessToken(
            owner=owner,
            label=label,
            lookup_id=uuid.uuid4().hex[:12],
            digest="0" * 64,
            pepper_version=1,
            expiration_model="hard",
            expires_at=now + timedelta(days=1),
        )
        for label in labels
    )


def found(term: str) -> set[str]:
    return {token.label for token in InventoryFilter({"label": term}).tokens()}


def expected(term: str) -> set[str]:
    return set(PersonalAccessToken.objects.filter(label__icontains=term.strip()).values_list("label", flat=True))


@st.composite
def labels_and_terms(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    labels = draw(st.lists(st.text(CHARS, min_size=1, max_size=12).map(str.strip).filter(bool), max_size=8))
    terms = draw(st.lists(st.text(CHARS, min_size=1, max_size=5).map(str.strip).filter(bool), max_size=4))
    for label in labels[:3]:
        # Parts of the labels themselves, in another case, so that terms match too.
        start = draw(st.integers(0, len(label) - 1))
        part = label[start : start + draw(st.integers(1, 5))].strip()
        if part:
            terms.append(draw(st.sampled_from([part, part.upper(), part.lower(), part.swapcase()])))
    return labels, terms


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=labels_and_terms())
@pytest.mark.django_db
def test_label_search_returns_what_icontains_returns(demo, case):
    labels, terms = case
    PersonalAccessToken.objects.all().delete()
    rows(demo.alice, labels)
    for term in terms:
        assert found(term) == expected(term), term


@pytest.mark.django_db
def test_the_search_follows_every_change_of_the_tokens(demo):
    alpha, _ = demo.token(demo.alice, label="alpha backup")
    beta, _ = demo.token(demo.alice, label="beta backup")
    assert found("backup") == {"alpha backup", "beta backup"}
    alpha.label = "gamma nightly"
    alpha.save(update_fields=["label"])
    assert found("alpha") == set()
    assert found("nightly") == {"gamma nightly"}
    PersonalAccessToken.objects.filter(pk=beta.pk).update(label="delta weekly")
    assert found("backup") == set()
    assert found("weekly") == {"delta weekly"}
    rotation = token_rotate(token=PersonalAccessToken.objects.get(pk=alpha.pk), actor=demo.alice, via="rest")
    assert found("nightly") == {"gamma nightly"}  # the old one stays listed, revoked, with the new one
    assert PersonalAccessToken.objects.label_contains("nightly").count() == 2
    token_delete(token=rotation.token, actor=demo.alice, via="rest")
    rows(demo.bob, ["bulk one", "bulk two", "bulk three"])
    assert found("bulk") == {"bulk one", "bulk two", "bulk three"}
    PersonalAccessToken.objects.filter(label__startswith="bulk t").delete()
    assert found("bulk") == {"bulk one"}
    PersonalAccessToken.objects.filter(label="bulk one").update(expires_at=timezone.now() - timedelta(days=3650))
    prune_after_retention()
    assert found("bulk") == set()
    assert found("weekly") == {"delta weekly"}
    if ON_SQLITE:
        with connection.cursor() as cursor:
            cursor.execute("SELECT token, label FROM tokens_label_search")
            indexed = set(cursor.fetchall())
        assert indexed == {(token.uuid.hex, token.label) for token in PersonalAccessToken.objects.all()}


@sqlite_only
@pytest.mark.django_db
def test_a_rare_term_goes_through_the_search_table_and_a_common_one_does_not(demo):
    rows(demo.alice, [f"common {n}" for n in range(FEW_MATCHES + 1)] + ["rare one"])
    with CaptureQueriesContext(connection) as queries:
        assert found("rare") == {"rare one"}
    assert "tokens_label_search" in queries.captured_queries[-1]["sql"]
    with CaptureQueriesContext(connection) as queries:
        assert len(found("common")) == FEW_MATCHES + 1
    assert "tokens_label_search" not in queries.captured_queries[-1]["sql"]
    with CaptureQueriesContext(connection) as queries:
        found("ra")  # no trigram: no search table
    assert all("tokens_label_search" not in query["sql"] for query in queries.captured_queries)


@pytest.mark.skipif(ON_SQLITE, reason="PostgreSQL's trigram index")
@pytest.mark.django_db
def test_postgresql_plans_the_filtered_page_on_the_trigram_index(demo):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'tokens_pat_label_trgm'")
        if cursor.fetchone() is None:
            pytest.skip("pg_trgm is not available: the migration went on without the index")
    rows(demo.alice, [f"label {n}" for n in range(20_000)])
    page = InventoryFilter({"label": "nothing like it"}).tokens().order_by("-created_at", "-uuid")[:50]
    sql, params = page.query.sql_with_params()
    with connection.cursor() as cursor:
        # Enough rows, and their statistics, for the planner's costs to choose the index as they do at scale.
        cursor.execute("ANALYZE tokens_personalaccesstoken")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "tokens_pat_label_trgm" in plan, plan
