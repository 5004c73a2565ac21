from __future__ import annotations


def test_login_page_answers(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content and b'name="password"' in response.content


def test_home_says_what_the_product_is(client, db):
    assert b"Personal Access Tokens" in client.get("/", follow=True).content


def test_console_login_with_password(client, demo):
    response = client.post("/login/", {"username": "Alice", "password": "demo-password-for-tests"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(demo.alice.pk)


def test_a_token_is_no_console_login(client, demo):
    _token, raw = demo.token(demo.alice)
    response = client.post("/login/", {"username": "alice", "password": raw})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_wrong_password_is_refused(client, demo):
    response = client.post("/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"didn" in response.content or b"correct" in response.content


def test_throttled_login_says_when_to_retry(client, demo, settings):
    settings.AUTH_FAILURE_LIMIT = 2
    for _ in range(2):
        client.post("/login/", {"username": "alice", "password": "nope"})
    response = client.post("/login/", {"username": "alice", "password": "demo-password-for-tests"})
    assert b"Too many failed attempts" in response.content
    assert "_auth_user_id" not in client.session
