from __future__ import annotations


def test_login_page_answers(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content and b'name="password"' in response.content


def test_home_says_what_the_product_is(client, db):
    assert b"Personal Access Tokens" in client.get("/", follow=True).content
