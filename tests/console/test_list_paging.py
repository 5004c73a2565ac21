"""Every console list pages in the database: People, the PAT tab (live and inactive tokens, details on demand)
and the scope picker cost the same queries, each with a LIMIT, at any size."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.paging import page_number
from tests.support.content import fill_folder
from tests.support.paging_support import add_tokens, add_users, capture, limit_of, select_statements

# People


@pytest.mark.parametrize("extra", [10, 300])
def test_people_costs_the_same_queries_and_limits_the_page(admin_client, demo, extra):
    add_users(extra)
    with capture() as queries:
        response = admin_client.get("/people/", {"page": "2"})
    assert response.status_code == 200
    selects = select_statements(queries)
    # session, signed-in user, COUNT, the page of users, the token counts of that page
    assert len(selects) == 5
    page_query = next(sql for sql in selects if 'FROM "people_user"' in sql and "LIMIT" in sql)
    assert 0 < limit_of(page_query) <= 25
    assert "COUNT(" not in page_query and "personalaccesstoken" not in page_query.lower()
    # The tokens are counted for the rows shown only, never with a JOIN over every user.
    counts = next(sql for sql in selects if "COUNT(" in sql and "personalaccesstoken" in sql.lower())
    assert " IN (" in counts


def test_people_page_last_shows_the_last_page(admin_client, demo):
    add_users(60)  # 63 people: 3 pages
    html = admin_client.get("/people/", {"page": "last"}).content.decode()
    assert "Page 3 of 3" in html and 'href="/people/user0059/"' in html


@pytest.mark.parametrize(("raw", "shown"), [("0", 1), ("-4", 1), ("99", 3), ("x'; --", 1), ("", 1), ("2.5", 1)])
def test_a_bad_page_number_shows_the_nearest_page(admin_client, demo, raw, shown):
    add_users(60)
    response = admin_client.get("/people/", {"page": raw})
    assert response.status_code == 200 and f"Page {shown} of 3" in response.content.decode()


def test_people_links_to_first_previous_next_and_last(admin_client, demo):
    add_users(60)
    html = admin_client.get("/people/", {"page": "2"}).content.decode()
    nav = html[html.index('<nav class="pagination"') : html.index("</nav>", html.index('<nav class="pagination"'))]
    for name, number in (("First", 1), ("Previous", 1), ("Next", 3), ("Last", 3)):
        assert re.search(rf'href="\?page={number}"[^>]*hx-get="\?page={number}"[^>]*>{name}</a>', nav), name


def test_people_paging_keeps_the_search_and_htmx_gets_the_fragment(admin_client, demo):
    add_users(40, prefix="ann")
    response = admin_client.get("/people/", {"q": "ann", "page": "2"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<!DOCTYPE html>" not in html and "40 matches for “ann”" in html and "Page 2 of 2" in html
    assert 'href="?q=ann&amp;page=1"' in html


def test_people_search_matches_part_of_a_display_name_or_e_mail(admin_client, demo):
    add_users(30)
    html = admin_client.get("/people/", {"q": "son 7"}).content.decode()
    assert "1 match for" in html and 'href="/people/user0007/"' in html
    html = admin_client.get("/people/", {"q": "0012@EXAMPLE"}).content.decode()
    assert "1 match for" in html and 'href="/people/user0012/"' in html


def test_people_token_counts_are_those_of_each_row(admin_client, demo):
    add_tokens(demo.alice, 3)
    html = admin_client.get("/people/").content.decode()
    assert 'aria-label="3 tokens of alice">3</a>' in html and 'aria-label="0 tokens of bob">0</a>' in html


@given(raw=st.text(max_size=30))
@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_page_parameter_gives_a_page_within_range(raw):
    for pages in (1, 7):
        assert 1 <= page_number(raw, pages) <= pages


# The PAT tab


@pytest.mark.parametrize("extra", [10, 300])
def test_the_token_tab_costs_the_same_queries_and_limits_the_page(admin_client, demo, extra):
    add_tokens(demo.alice, extra)
    add_tokens(demo.alice, extra, expired=True, label="old")
    with capture() as queries:
        html = admin_client.get("/people/alice/tokens/").content.decode()
    selects = select_statements(queries)
    # session, signed-in user, owner, COUNT of live tokens, a page of them; no scope, so no node query
    assert len(selects) == 5
    page_query = next(sql for sql in selects if "personalaccesstoken" in sql.lower() and "LIMIT" in sql)
    assert limit_of(page_query) == min(extra, 20) and "recent_uses" not in page_query
    assert html.count('<tr id="token-') == min(extra, 20)
    # Expired tokens are not on the tab: they load on demand.
    assert "old 0" not in html and ">Show inactive tokens</a>" in html


def test_live_tokens_come_newest_first_and_page_with_links(admin_client, demo):
    add_tokens(demo.alice, 30)
    first = admin_client.get("/people/alice/tokens/").content.decode()
    assert first.index("bulk 0029") < first.index("bulk 0028") and "bulk 0009" not in first
    assert "Page 1 of 2" in first
    assert 'href="/people/alice/tokens/?page=2" hx-get="/people/alice/tokens/list/?page=2"' in first
    last = admin_client.get("/people/alice/tokens/list/", {"page": "last"}, HTTP_HX_REQUEST="true").content.decode()
    assert "bulk 0009" in last and "bulk 0010" not in last and "Page 2 of 2" in last
    # The refreshed list (tokensChanged) stays on the page it shows.
    assert 'id="token-list" hx-get="/people/alice/tokens/list/?page=2" hx-trigger="tokensChanged from:body"' in last


def test_a_bad_token_page_number_is_the_nearest_page(alice_client, demo):
    add_tokens(demo.alice, 30)
    for raw, shown in (("-1", 1), ("1000000000000000000000", 1), ("7", 2), ("\x00", 1)):
        response = alice_client.get("/me/tokens/", {"page": raw})
        assert response.status_code == 200 and f"Page {shown} of 2" in response.content.decode()


@pytest.mark.parametrize("extra", [10, 300])
def test_the_inactive_list_pages_expired_tokens_on_demand(admin_client, demo, extra):
    add_tokens(demo.alice, 2)
    add_tokens(demo.alice, extra, expired=True, label="old")
    with capture() as queries:
        response = admin_client.get("/people/alice/tokens/inactive/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    selects = select_statements(queries)
    assert len(selects) == 5 and any("LIMIT" in sql and limit_of(sql) == min(extra, 20) for sql in selects)
    assert "<!DOCTYPE html>" not in html and html.lstrip().startswith('<div id="inactive-list"')
    assert html.count('<tr id="token-') == min(extra, 20) and "bulk 0" not in html
    # The most recently ended first, each marked Expired, none with a Rotate control.
    assert html.index("old 0000") < html.index("old 0001") and ">Expired</span>" in html and "Rotate<span" not in html
    assert 'Delete<span class="visually-hidden"> old 0000</span>' in html
    if extra > 25:
        assert 'hx-get="/people/alice/tokens/inactive/?page=2"' in html


def test_the_inactive_list_without_javascript_is_the_tab_with_the_list_open(alice_client, demo):
    add_tokens(demo.alice, 1, expired=True, label="old")
    html = alice_client.get("/me/tokens/inactive/").content.decode()
    assert "<!DOCTYPE html>" in html and "Inactive personal access tokens" in html and "old 0000" in html
    assert ">Show inactive tokens</a>" not in html


def test_a_tab_with_only_expired_tokens_says_they_all_expired(alice_client, demo):
    add_tokens(demo.alice, 1, expired=True, label="old")
    html = alice_client.get("/me/tokens/").content.decode()
    assert "tokens have all expired" in html and "No Personal Access Tokens yet" not in html


def test_details_load_on_demand_into_the_row(admin_client, demo):
    token, raw = demo.token(demo.alice, label="synced")
    from tokens.models import PersonalAccessToken

    PersonalAccessToken.objects.authenticate(raw, ip="192.0.2.44", protocol="REST", user_agent="curl/8")
    tab = admin_client.get("/people/alice/tokens/").content.decode()
    url = f"/people/alice/tokens/{token.uuid}/details/"
    assert f'hx-get="{url}" hx-trigger="toggle once" hx-target="find .token-details-body"' in tab
    assert f'<a href="{url}" aria-label="Details of synced on a page of their own">Open the details</a>' in tab
    assert "curl/8" not in tab
    fragment = admin_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<!DOCTYPE html>" not in fragment and "curl/8" in fragment and "192.0.2.44" in fragment
    page = admin_client.get(url).content.decode()
    assert "<!DOCTYPE html>" in page and "Details of synced" in page and "curl/8" in page


def test_details_of_someone_elses_token_are_not_found(alice_client, demo):
    bobs, _raw = demo.token(demo.bob, label="bob's")
    assert alice_client.get(f"/me/tokens/{bobs.uuid}/details/").status_code == 404
    assert alice_client.get(f"/people/bob/tokens/{bobs.uuid}/details/").status_code == 403


# The scope picker


def _big_folder(demo, count):
    folder = demo.node("/common/projects")
    fill_folder(folder, count)
    return folder


@pytest.mark.parametrize("extra", [10, 300])
def test_a_folder_shows_at_most_100_children_in_a_query_with_a_limit(admin_client, demo, extra):
    folder = _big_folder(demo, extra)
    with capture() as queries:
        response = admin_client.get("/people/alice/tokens/nodes/", {"parent": folder.uuid}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    selects = select_statements(queries)
    # session, signed-in user, owner, the folder, the owner's grants, a batch of children
    assert len(selects) == 6
    assert any('FROM "files_node"' in sql and "LIMIT 101" in sql for sql in selects)
    # alpha and beta (folders first), then the files
    assert html.count('class="scope-node"') == min(extra + 2, 100)
    assert html.index("alpha") < html.index("file-0000.txt")
    if extra + 2 > 100:
        assert ">Show more<" in html and 'aria-label="Search in /common/projects"' in html
    else:
        assert ">Show more<" not in html and "Search in" not in html


def test_show_more_fetches_the_next_children(admin_client, demo):
    folder = _big_folder(demo, 300)
    first = admin_client.get("/people/alice/tokens/nodes/", {"parent": folder.uuid}, HTTP_HX_REQUEST="true")
    more = re.search(r'hx-get="([^"]+offset=100[^"]*)"', first.content.decode())
    assert more is not None
    html = admin_client.get(more[1].replace("&amp;", "&"), HTTP_HX_REQUEST="true").content.decode()
    assert "file-0098.txt" in html and "file-0197.txt" in html and "file-0097.txt" not in html
    assert "file-0198.txt" not in html and html.count('class="scope-node"') == 100
    assert "offset=200" in html and "Search in" not in html
    last = re.search(r'hx-get="([^"]+offset=200[^"]*)"', html)
    assert last is not None
    rest = admin_client.get(last[1].replace("&amp;", "&"), HTTP_HX_REQUEST="true").content.decode()
    assert "file-0198.txt" in rest and "file-0297.txt" in rest and "file-0298.txt" not in rest
    assert rest.count('class="scope-node"') == 100 and "offset=300" in rest
    assert "data-focus-on-load" in html.split('class="scope-node"', 2)[0] + html.split('class="scope-node"', 2)[1]


def test_search_finds_names_containing_the_text_within_the_folder(admin_client, demo):
    folder = _big_folder(demo, 300)
    response = admin_client.get(
        "/people/alice/tokens/nodes/", {"parent": folder.uuid, "q": "FILE-02"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.count('class="scope-node"') == 100 and "file-0200.txt" in html and "alpha" not in html
    assert "Search in" not in html  # the box stays; only the results are replaced
    nothing = admin_client.get(
        "/people/alice/tokens/nodes/", {"parent": folder.uuid, "q": "zzz"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "No name contains “zzz”" in nothing


@pytest.mark.parametrize("offset", ["-1", "x", "99999999999999999999", "5000"])
def test_a_bad_offset_never_fails(admin_client, demo, offset):
    folder = _big_folder(demo, 10)
    response = admin_client.get("/people/alice/tokens/nodes/", {"parent": folder.uuid, "offset": offset})
    assert response.status_code == 200


def test_without_javascript_a_folder_opens_through_a_link(admin_client, demo):
    folder = _big_folder(demo, 300)
    create = admin_client.get("/people/alice/tokens/new/").content.decode()
    common = demo.common.root
    assert f'<noscript><a class="small" href="/people/alice/tokens/new/?open={common.uuid}#opened">Open' in create
    html = admin_client.get("/people/alice/tokens/new/", {"open": folder.uuid}).content.decode()
    assert "Inside /common/projects" in html and 'aria-label="Access to /common/projects/alpha"' in html
    assert f'href="/people/alice/tokens/new/?open={folder.uuid}&amp;offset=100#opened"' in html
    assert '<form id="scope-browse" method="get"' in html
    # What the owner cannot list is simply not opened.
    research = demo.research.root
    refused = admin_client.get("/people/bob/tokens/new/", {"open": research.uuid})
    assert refused.status_code == 200 and "Inside" not in refused.content.decode()
