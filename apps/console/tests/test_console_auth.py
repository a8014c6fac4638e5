"""Sign-in, sessions and CSRF of the console, over HTTP with Starlette's TestClient (no
services needed: these paths never reach gRPC, or reach unanswered ports)."""

import base64
import json
import re

import pytest
from itsdangerous import TimestampSigner
from lmp_console.app import SESSION_COOKIE, create_app
from lmp_console.pages.auth import user_from_claims
from lmp_console.services import bearer_for
from lmp_console.session import User
from lmp_console.settings import ConsoleSettings, OidcSettings
from lmp_kit.auth import TokenVerifier
from lmp_kit.settings import SettingsError
from starlette.testclient import TestClient

SECRET = "a-test-jwt-secret-of-enough-length-000"  # noqa: S105  # a test key


def settings_for(tmp_path, **env):
    base = {
        "LMP_DATA_DIR": str(tmp_path),
        "LMP_JWT_SECRET": SECRET,
        # nothing answers here: /readyz must say so
        **{f"LMP_{s}_GRPC_TARGET": "127.0.0.1:9" for s in ("REGISTRY", "VOTING", "EXPERTISE")},
        **{f"LMP_{s}_GRPC_TARGET": "127.0.0.1:9" for s in ("KPI", "NOTIFICATIONS")},
    }
    base.update(env)
    return ConsoleSettings.from_env(base, dev_signin_default=True)


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(settings_for(tmp_path))) as test_client:
        yield test_client


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page) or re.search(
        r'<meta name="csrf-token" content="([^"]+)">', page
    )
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(client, role="curator", cities="sarov", next_url="/"):
    token = csrf_of(client.get("/signin").text)
    return client.post(
        "/signin/dev",
        data={"role": role, "cities": cities, "csrf_token": token, "next": next_url},
        follow_redirects=False,
    )


def test_pages_send_an_anonymous_visitor_to_sign_in(client):
    response = client.get("/curator?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Fcurator%3Fx%3D1"


def test_signin_page_has_the_dev_form_with_labelled_fields(client):
    page = client.get("/signin").text
    assert '<label for="role">Роль</label>' in page
    assert '<label for="cities">Города</label>' in page
    assert 'name="role"' in page
    assert 'name="cities"' in page
    assert ">Войти</button>" in page
    assert "Войти через OpenID Connect" not in page  # no provider configured


def test_dev_signin_sets_a_signed_httponly_samesite_cookie(client):
    response = sign_in(client, next_url="/leaderboard")
    assert response.status_code == 303
    assert response.headers["location"] == "/leaderboard"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "secure" not in flags  # LMP_CONSOLE_HTTPS_ONLY is off here
    home = client.get("/")
    assert home.status_code == 200
    assert "dev-curator" in home.text


def test_session_cookie_is_secure_when_https_only(tmp_path):
    app = create_app(settings_for(tmp_path, LMP_CONSOLE_HTTPS_ONLY="true"))
    with TestClient(app, base_url="https://testserver") as client:
        cookie = sign_in(client).headers["set-cookie"]
    assert "secure" in [part.strip().lower() for part in cookie.split(";")]


def test_a_forged_session_cookie_is_not_a_sign_in(client):
    forged = base64.b64encode(
        json.dumps({"user": {"subject": "x", "roles": ["curator"], "cities": ["*"]}}).encode()
    )
    signed = TimestampSigner("not-the-console-secret").sign(forged).decode()
    client.cookies.set(SESSION_COOKIE, signed)
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(client):
    sign_in(client)
    response = client.post("/signout", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert "Форма отклонена" in response.text
    assert client.get("/", follow_redirects=False).status_code == 200  # still signed in


def test_a_post_with_another_sessions_token_is_refused(client, tmp_path):
    with TestClient(create_app(settings_for(tmp_path))) as other:
        foreign = csrf_of(other.get("/signin").text)
    response = client.post(
        "/signin/dev",
        data={"role": "curator", "cities": "sarov", "csrf_token": foreign},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "не совпадает" in response.text or "сеанс" in response.text


def test_signout_ends_the_session(client):
    sign_in(client)
    page = client.get("/").text
    response = client.post("/signout", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_dev_signin_is_refused_when_the_setting_is_off(tmp_path):
    settings = settings_for(
        tmp_path, LMP_CONSOLE_DEV_SIGNIN="false", LMP_CONSOLE_SESSION_SECRET="s" * 40
    )
    with TestClient(create_app(settings)) as client:
        page = client.get("/signin").text
        assert 'name="role"' not in page
        response = client.post(
            "/signin/dev",
            data={"role": "curator", "cities": "sarov", "csrf_token": csrf_of(page)},
            follow_redirects=False,
        )
        assert response.status_code == 403
        assert "Вход для разработки выключен" in response.text
        assert client.get("/", follow_redirects=False).status_code == 303


def test_a_deployment_without_a_session_key_does_not_start(tmp_path):
    with pytest.raises(SettingsError, match="LMP_CONSOLE_SESSION_SECRET"):
        ConsoleSettings.from_env({"LMP_DATA_DIR": str(tmp_path), "LMP_JWT_SECRET": SECRET})


def test_dev_signin_refuses_bad_cities_and_unknown_roles(client):
    token = csrf_of(client.get("/signin").text)
    bad_city = client.post(
        "/signin/dev", data={"role": "curator", "cities": "Sarov!", "csrf_token": token}
    )
    assert bad_city.status_code == 400
    assert "Неверные коды городов: Sarov!" in bad_city.text
    bad_role = client.post(
        "/signin/dev", data={"role": "service", "cities": "sarov", "csrf_token": token}
    )
    assert bad_role.status_code == 400
    assert "Неизвестная роль" in bad_role.text


def test_next_never_leaves_the_site(client):
    response = sign_in(client, next_url="//evil.example/")
    assert response.headers["location"] == "/"


def test_a_city_the_user_lacks_gives_403_without_its_data(client):
    sign_in(client, cities="sarov")
    response = client.get("/cities/seversk/scorecards/2026-11")
    assert response.status_code == 403
    assert "Нет доступа к городу" in response.text
    assert "Показатель" not in response.text
    for path in ("/cities/seversk/activities/a1", "/cities/seversk/facts/f1"):
        assert client.get(path).status_code == 403


def test_the_minted_token_carries_the_users_roles_and_cities(tmp_path):
    settings = settings_for(tmp_path)
    user = User(subject="dev-curator", roles=frozenset({"curator"}), cities=frozenset({"sarov"}))
    verified = TokenVerifier(key=SECRET, algorithm="HS256", issuer="lmp", audience="lmp").verify(
        bearer_for(settings, user)
    )
    assert verified.subject == "dev-curator"
    assert verified.roles == {"curator"}
    assert verified.cities == {"sarov"}


def test_healthz_answers_and_readyz_names_the_services_down(client):
    assert client.get("/healthz").text == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert set(ready.json()["unavailable"]) == {
        "registry",
        "voting",
        "expertise",
        "kpi",
        "notifications",
    }


OIDC = OidcSettings(
    issuer="https://id.example",
    client_id="console",
    client_secret="",
    roles_claim="realm_access.roles",
    cities_claim="cities",
    scope="openid",
)


def test_oidc_claims_map_to_roles_and_cities():
    found = user_from_claims(
        {"sub": "u1", "name": "Анна", "realm_access": {"roles": ["curator"]}, "cities": ["sarov"]},
        OIDC,
    )
    assert found == User(
        subject="u1", roles=frozenset({"curator"}), cities=frozenset({"sarov"}), name="Анна"
    )


def test_oidc_unknown_roles_are_refused_with_the_valid_ones_named():
    found = user_from_claims(
        {"sub": "u1", "realm_access": {"roles": ["curator", "admin"]}, "cities": ["sarov"]}, OIDC
    )
    assert isinstance(found, str)
    assert "admin" in found
    assert "programme_office" in found
    missing = user_from_claims({"sub": "u1", "cities": ["sarov"]}, OIDC)
    assert isinstance(missing, str)
    assert "realm_access.roles" in missing


def test_an_htmx_request_may_send_the_token_as_a_header(client):
    sign_in(client)
    token = csrf_of(client.get("/").text)
    response = client.post("/signout", headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_new_sign_in_renews_the_csrf_token(client):
    before = csrf_of(client.get("/signin").text)
    sign_in(client)
    after = csrf_of(client.get("/").text)
    assert after != before
    stale = client.post("/signout", data={"csrf_token": before}, follow_redirects=False)
    assert stale.status_code == 403


def test_no_page_may_be_framed(client):
    for path in ("/signin", "/healthz", "/nope"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"


def test_an_unreachable_provider_is_a_clear_503(tmp_path):
    settings = settings_for(
        tmp_path,
        LMP_CONSOLE_OIDC_ISSUER="http://127.0.0.1:9/realms/lmp",
        LMP_CONSOLE_OIDC_CLIENT_ID="lmp-console",
    )
    with TestClient(create_app(settings)) as client:
        assert "Войти через OpenID Connect" in client.get("/signin").text
        response = client.get("/signin/oidc?next=/curator", follow_redirects=False)
    assert response.status_code == 503
    assert "Поставщик входа недоступен" in response.text
