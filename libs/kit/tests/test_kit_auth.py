from __future__ import annotations

import time

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from lmp_kit.auth import (
    ALL_CITIES,
    DEFAULT_MAX_TTL_S,
    READ_EVENTS_SCOPE,
    Principal,
    TokenIssuer,
    TokenVerifier,
    current_principal,
    principal,
)
from lmp_kit.errors import PermissionDeniedError, UnauthenticatedError

KEY = "a-test-secret-that-is-long-enough-for-hs256"
OTHER_KEY = "another-secret-that-is-long-enough-for-hs256"


def issuer(key=KEY, iss="lmp", aud="lmp", algorithm="HS256"):
    return TokenIssuer(key=key, algorithm=algorithm, issuer=iss, audience=aud)


def verifier(key=KEY, iss="lmp", aud="lmp", algorithm="HS256"):
    return TokenVerifier(key=key, algorithm=algorithm, issuer=iss, audience=aud)


def resident_of(*cities, scopes=()):
    return Principal(
        subject="user:anna",
        roles=frozenset({"resident"}),
        cities=frozenset(cities),
        scopes=frozenset(scopes),
    )


def test_an_issued_token_verifies_to_the_same_subject_roles_cities_and_scopes():
    token = issuer().issue(
        "user:anna",
        roles=["working_group", "resident", "resident"],
        cities=["sarov", "kazan"],
        scopes=[READ_EVENTS_SCOPE],
    )

    caller = verifier().verify(token)

    assert caller == Principal(
        subject="user:anna",
        roles=frozenset({"working_group", "resident"}),
        cities=frozenset({"sarov", "kazan"}),
        scopes=frozenset({READ_EVENTS_SCOPE}),
    )


def test_a_token_signed_with_a_private_key_verifies_with_its_public_key():
    private_key = Ed25519PrivateKey.generate()
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )

    token = issuer(key=private_pem, algorithm="EdDSA").issue("service:kpi", roles=["service"])

    assert verifier(key=public_pem, algorithm="EdDSA").verify(token).subject == "service:kpi"


def test_an_expired_token_is_unauthenticated_and_says_to_get_a_new_one():
    token = issuer().issue("user:anna", roles=["resident"], ttl_seconds=-10)

    with pytest.raises(UnauthenticatedError) as raised:
        verifier().verify(token)

    assert raised.value.message == "the token has expired; ask for a new one"
    assert raised.value.status == grpc.StatusCode.UNAUTHENTICATED


def test_a_verified_token_is_taken_from_the_cache_until_it_expires(monkeypatch):
    check = verifier()
    token = issuer().issue("user:anna", roles=["resident"], ttl_seconds=60)
    signatures_checked = []
    verify_signature = TokenVerifier._verify  # noqa: SLF001

    def counted(self, t):
        signatures_checked.append(t)
        return verify_signature(self, t)

    monkeypatch.setattr(TokenVerifier, "_verify", counted)

    first = check.verify(token)
    assert check.verify(token) is first
    assert len(signatures_checked) == 1

    expiry = jwt.decode(token, options={"verify_signature": False})["exp"]
    monkeypatch.setattr("lmp_kit.auth.time.time", lambda: expiry + 1)
    assert check.verify(token) == first
    assert len(signatures_checked) == 2


def test_a_refused_token_is_not_cached_and_the_cache_stays_bounded(monkeypatch):
    monkeypatch.setattr("lmp_kit.auth.VERIFIED_CACHE_SIZE", 3)
    check = verifier()
    forged = issuer(key=OTHER_KEY).issue("user:anna", roles=["resident"])
    for _ in range(2):
        with pytest.raises(UnauthenticatedError):
            check.verify(forged)
    tokens = [issuer().issue(f"user:{n}", roles=["resident"]) for n in range(5)]
    for token in tokens:
        check.verify(token)

    assert list(check.verified) == tokens[2:]


def test_a_token_signed_with_another_key_is_unauthenticated():
    token = issuer(key=OTHER_KEY).issue("user:anna", roles=["resident"])

    with pytest.raises(UnauthenticatedError, match=r"^the token is not valid: .*[Ss]ignature"):
        verifier().verify(token)


def test_a_token_from_another_issuer_is_unauthenticated():
    token = issuer(iss="somebody-else").issue("user:anna", roles=["resident"])

    with pytest.raises(UnauthenticatedError, match=r"^the token is not valid: .*issuer"):
        verifier().verify(token)


def test_a_token_for_another_audience_is_unauthenticated():
    token = issuer(aud="another-platform").issue("user:anna", roles=["resident"])

    with pytest.raises(UnauthenticatedError, match=r"^the token is not valid: .*[Aa]udience"):
        verifier().verify(token)


def test_garbage_instead_of_a_token_is_unauthenticated():
    with pytest.raises(UnauthenticatedError, match="the token is not valid"):
        verifier().verify("not-a-jwt")


def test_an_unknown_role_is_refused_when_issuing():
    with pytest.raises(ValueError, match=r"unknown roles \['mayor'\]; known roles: administration"):
        issuer().issue("user:anna", roles=["resident", "mayor"])


def test_require_city_passes_for_a_listed_city_and_denies_another():
    caller = resident_of("sarov")

    caller.require_city("sarov")
    with pytest.raises(PermissionDeniedError) as raised:
        caller.require_city("kazan")

    assert raised.value.message == "user:anna is not authorized for city 'kazan'"
    assert raised.value.status == grpc.StatusCode.PERMISSION_DENIED


def test_the_all_cities_wildcard_may_act_in_any_city():
    caller = resident_of(ALL_CITIES)

    caller.require_city("sarov")
    caller.require_city("kazan")
    assert caller.may_act_in("any-city-at-all")


def test_no_cities_may_act_in_no_city():
    assert not resident_of().may_act_in("sarov")


def test_require_role_passes_with_any_one_of_the_roles_and_denies_otherwise():
    caller = resident_of("sarov")

    caller.require_role("administration", "resident")
    with pytest.raises(PermissionDeniedError) as raised:
        caller.require_role("working_group", "administration")

    assert raised.value.message == (
        "user:anna needs one of the roles administration, working_group"
    )


def test_require_scope_passes_with_the_scope_and_denies_without_it():
    resident_of(scopes=[READ_EVENTS_SCOPE]).require_scope(READ_EVENTS_SCOPE)

    with pytest.raises(PermissionDeniedError, match="user:anna lacks the scope 'events:read'"):
        resident_of().require_scope(READ_EVENTS_SCOPE)


def test_principal_without_an_authenticated_caller_is_unauthenticated():
    with pytest.raises(UnauthenticatedError, match="no authenticated caller"):
        principal()


def test_principal_returns_the_caller_of_the_current_context():
    caller = resident_of("sarov")
    token = current_principal.set(caller)
    try:
        assert principal() is caller
    finally:
        current_principal.reset(token)


def test_a_roles_claim_that_is_not_a_list_of_strings_is_unauthenticated():
    claims = {"sub": "user:anna", "iss": "lmp", "aud": "lmp", "exp": 4_102_444_800}
    token = jwt.encode({**claims, "roles": "administration"}, KEY, algorithm="HS256")

    with pytest.raises(UnauthenticatedError, match="the token's 'roles' claim must be a list"):
        verifier().verify(token)


def test_a_token_without_an_expiry_is_unauthenticated():
    claims = {"sub": "user:anna", "iss": "lmp", "aud": "lmp", "roles": ["resident"]}
    token = jwt.encode(claims, KEY, algorithm="HS256")

    with pytest.raises(UnauthenticatedError, match=r"the token is not valid: .*exp"):
        verifier().verify(token)


def signed(**claims):
    base = {"sub": "user:anna", "iss": "lmp", "aud": "lmp", "roles": ["resident"]}
    return jwt.encode({**base, **claims}, KEY, algorithm="HS256")


def test_a_token_that_lives_longer_than_the_maximum_is_unauthenticated_and_says_so():
    token = issuer().issue("user:anna", roles=["resident"], ttl_seconds=DEFAULT_MAX_TTL_S + 60)

    with pytest.raises(UnauthenticatedError) as raised:
        verifier().verify(token)

    assert raised.value.message == (
        "the token lives 86460 s, longer than the 86400 s allowed (LMP_JWT_MAX_TTL_S); "
        "ask for a shorter-lived one"
    )
    assert raised.value.status == grpc.StatusCode.UNAUTHENTICATED


def test_a_token_of_exactly_the_maximum_lifetime_verifies():
    token = issuer().issue("user:anna", roles=["resident"], ttl_seconds=DEFAULT_MAX_TTL_S)

    assert verifier().verify(token).subject == "user:anna"


def test_the_maximum_lifetime_is_the_verifiers_setting():
    token = issuer().issue("service:kpi", roles=["service"], ttl_seconds=301)
    short = TokenVerifier(key=KEY, algorithm="HS256", issuer="lmp", audience="lmp", max_ttl_s=300)

    with pytest.raises(UnauthenticatedError, match="longer than the 300 s allowed"):
        short.verify(token)


def test_without_iat_the_lifetime_counts_from_now():
    far = signed(exp=int(time.time()) + DEFAULT_MAX_TTL_S + 3600)
    near = signed(exp=int(time.time()) + 3600)

    with pytest.raises(UnauthenticatedError, match="longer than the 86400 s allowed"):
        verifier().verify(far)
    assert verifier().verify(near).subject == "user:anna"


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("exp", "4102444800"),
        ("exp", True),
        ("iat", "1700000000"),
        ("iat", True),
        ("nbf", "1700000000"),
        ("nbf", [1]),
    ],
)
def test_exp_nbf_and_iat_must_be_numbers(claim, value):
    now = int(time.time())
    token = signed(**{"exp": now + 60, "iat": now, claim: value})

    with pytest.raises(UnauthenticatedError) as raised:
        verifier().verify(token)

    assert claim in raised.value.message
    assert raised.value.status == grpc.StatusCode.UNAUTHENTICATED


def test_a_token_not_yet_valid_is_unauthenticated():
    now = int(time.time())
    token = signed(exp=now + 3600, iat=now, nbf=now + 600)

    with pytest.raises(UnauthenticatedError, match=r"not yet valid \(nbf\)"):
        verifier().verify(token)
