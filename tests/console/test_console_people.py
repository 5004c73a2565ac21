"""The console's People pages: the home redirect, the list (search, pagination, htmx fragment) and a user's page."""

from __future__ import annotations

import pytest

from people.models import User
from tests.support.demo import DEMO_PASSWORD


def test_home_sends_anonymous_visitors_to_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_home_sends_admins_to_people(admin_client):
    response = admin_client.get("/")
    assert response.status_code == 302 and response["Location"] == "/people/"


def test_home_sends_other_users_to_their_tokens(bob_client):
    response = bob_client.get("/")
    assert response.status_code == 302 and response["Location"] == "/me/tokens/"


def test_login_with_the_form_leads_an_admin_to_people(client, demo):
    response = client.post("/login/", {"username": "admin", "password": DEMO_PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/people/"
    assert b"<h1>People</h1>" in response.content


def test_people_list_shows_the_columns_and_links_each_login(admin_client, demo):
    demo.token(demo.alice)
    demo.token(demo.alice)
    response = admin_client.get("/people/")
    assert response.status_code == 200
    html = response.content.decode()
    for column in ("Login", "Display name", "E-mail", "Status", "Tokens", "Last login"):
        assert f">{column}</th>" in html
    assert 'href="/people/alice/"' in html
    assert 'aria-label="2 tokens of alice"' in html
    assert "<!DOCTYPE html>" in html


def test_people_search_filters_and_htmx_gets_the_fragment(admin_client, demo):
    response = admin_client.get("/people/", {"q": "ali"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<!DOCTYPE html>" not in html
    assert 'href="/people/alice/"' in html and 'href="/people/bob/"' not in html
    assert "1 match for “ali”" in html
    assert "HX-Request" in response["Vary"]


def test_people_search_matches_e_mail_and_display_name(admin_client, demo):
    User.objects.create_user("carol", display_name="Carol Danvers", email="captain@example.org")
    assert b'href="/people/carol/"' in admin_client.get("/people/", {"q": "danvers"}).content
    assert b'href="/people/carol/"' in admin_client.get("/people/", {"q": "captain@"}).content


def test_people_list_paginates(admin_client, demo):
    User.objects.bulk_create([User(login=f"user{n:02}") for n in range(30)])
    first = admin_client.get("/people/").content.decode()
    second = admin_client.get("/people/", {"page": "2"}).content.decode()
    assert "Page 1 of 2" in first and 'href="?page=2"' in first
    assert 'href="/people/user29/"' in second and 'href="/people/user29/"' not in first


def test_people_list_tolerates_a_bad_page_number(admin_client, demo):
    assert admin_client.get("/people/", {"page": "x'; --"}).status_code == 200


def test_people_list_costs_the_same_queries_for_many_users(admin_client, demo, django_assert_num_queries):
    User.objects.bulk_create([User(login=f"user{n:02}") for n in range(20)])
    # session, signed-in user, count, page of users, their token counts
    with django_assert_num_queries(5):
        admin_client.get("/people/")


@pytest.mark.parametrize("path", ["/people/", "/people/alice/", "/people/alice/tokens/"])
def test_people_pages_are_refused_to_non_admins(bob_client, path):
    response = bob_client.get(path)
    assert response.status_code == 403
    assert b"Only administrators" in response.content


@pytest.mark.parametrize("path", ["/people/", "/people/alice/", "/people/alice/tokens/", "/me/tokens/"])
def test_console_pages_need_a_login(client, db, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_user_page_has_a_profile_and_a_tokens_tab(admin_client, demo):
    html = admin_client.get("/people/alice/").content.decode()
    assert 'href="/people/alice/tokens/"' in html and ">Personal Access Tokens</a>" in html
    assert 'aria-current="page">Profile</a>' in html
    assert "<!DOCTYPE html>" in html


def test_tab_switch_by_htmx_returns_the_tab_fragment(admin_client, demo):
    response = admin_client.get("/people/alice/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="user-tabs")
    html = response.content.decode()
    assert "<!DOCTYPE html>" not in html and '<nav class="tabs"' in html and "Profile" in html


def test_history_restore_gets_the_whole_page(admin_client, demo):
    response = admin_client.get("/people/alice/", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert b"<!DOCTYPE html>" in response.content


def test_unknown_user_is_404(admin_client):
    assert admin_client.get("/people/nobody/").status_code == 404
    assert admin_client.get("/people/nobody/tokens/").status_code == 404


def test_user_page_finds_logins_regardless_of_case(admin_client, demo):
    assert admin_client.get("/people/ALICE/").status_code == 200
