"""Login, logout, CSRF, sessions and bearer tokens, over HTTP on a real FileStorage."""

from __future__ import annotations

from support import PASSWORD, csrf_token, login

from heritage.security import hash_token


def test_login_with_the_form_leads_to_the_dashboard(testapp, consortium):
    response = login(testapp, "pns-curator")
    assert response.status_int == 302
    assert response.location.endswith("/staff/")
    page = response.follow()
    assert "pns-curator" in page.text
    assert "Sarawak State Library" in page.text


def test_wrong_password_is_refused_with_a_message(testapp, consortium):
    response = login(testapp, "pns-curator", "wrong-password!", status=400)
    assert "wrong password" in response.text.lower()
    assert testapp.get("/staff/", status=302).location.startswith("http://localhost/staff/login")


def test_login_post_without_csrf_token_is_refused(testapp, consortium):
    testapp.get("/staff/login")  # a session exists, but the token is not sent
    response = testapp.post(
        "/staff/login", {"username": "pns-curator", "password": PASSWORD}, status=400
    )
    assert "CSRF" in response.text
    testapp.get("/staff/", status=302)  # still not logged in


def test_logout_needs_post_with_csrf_and_ends_the_session(testapp, consortium):
    login(testapp, "pns-curator")
    testapp.post("/staff/logout", status=400)  # no token: refused, still logged in
    testapp.get("/staff/", status=200)
    testapp.post("/staff/logout", {"csrf_token": csrf_token(testapp)}, status=302)
    testapp.get("/staff/", status=302)


def test_login_does_not_redirect_to_another_site(testapp, consortium):
    form = testapp.get("/staff/login?came_from=//evil.example/x").forms["login-form"]
    form["username"], form["password"] = "pns-curator", PASSWORD
    response = form.submit(status=302)
    assert response.location.startswith("http://localhost/")


def test_anonymous_dashboard_redirects_to_login(testapp, consortium):
    response = testapp.get("/staff/", status=302)
    assert "/staff/login" in response.location


def test_user_without_institution_gets_403_on_the_dashboard(testapp, consortium):
    login(testapp, "reader")
    testapp.get("/staff/", status=403)


def test_admin_dashboard_counts_every_institution(testapp, consortium):
    login(testapp, "admin")
    page = testapp.get("/staff/")
    assert "Sarawak State Library" in page.text
    assert "Dinas Perpustakaan Kalimantan Timur" in page.text


def test_bearer_token_authenticates_api_writes_without_csrf(testapp, consortium, arrange):
    arrange(lambda root: root.users.add_token("pns-curator", hash_token("tok-123")))
    headers = {"Authorization": "Bearer tok-123"}
    response = testapp.patch_json(
        f"/api/items/{consortium.unpublished}",
        {"rights": "http://creativecommons.org/licenses/by/4.0/"},
        headers=headers,
    )
    assert response.json["rights"] == "http://creativecommons.org/licenses/by/4.0/"
    bad = {"Authorization": "Bearer not-a-token"}
    testapp.patch_json(
        f"/api/items/{consortium.unpublished}", {"rights": ""}, headers=bad, status=404
    )


def test_cookie_authenticated_api_write_needs_the_csrf_header(testapp, consortium):
    login(testapp, "pns-curator")
    url = f"/api/items/{consortium.public}"
    body = {"viewing_direction": "right-to-left"}
    refused = testapp.patch_json(url, body, status=400)
    assert "CSRF" in refused.json["error"]
    ok = testapp.patch_json(url, body, headers={"X-CSRF-Token": csrf_token(testapp)})
    assert ok.json["viewing_direction"] == "right-to-left"


def test_password_change_ends_existing_sessions(testapp, consortium, arrange):
    login(testapp, "pns-curator")
    testapp.get("/staff/", status=200)
    arrange(lambda root: root.users["pns-curator"].set_password("a-brand-new-password"))
    testapp.get("/staff/", status=302)
