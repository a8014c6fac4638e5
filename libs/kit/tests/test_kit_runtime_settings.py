from __future__ import annotations

import pytest
from lmp_kit.auth import issuer_of, verifier_of
from lmp_kit.errors import UnauthenticatedError
from lmp_kit.settings import Settings

SECRET = "a-test-secret-long-enough-for-hs256-signing"  # noqa: S105  # a test key


def test_the_services_verifier_takes_the_configured_maximum_token_lifetime():
    settings = Settings.from_env("registry", {"LMP_JWT_SECRET": SECRET, "LMP_JWT_MAX_TTL_S": "60"})
    token = issuer_of(settings).issue(
        "tester", roles=["resident"], cities=["sarov"], ttl_seconds=120
    )

    with pytest.raises(UnauthenticatedError, match="LMP_JWT_MAX_TTL_S"):
        verifier_of(settings).verify(token)
