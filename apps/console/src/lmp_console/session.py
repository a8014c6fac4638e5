"""Who is signed in: the roles and cities the console holds in its signed session cookie."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lmp_kit.auth import ALL_CITIES
from starlette.requests import Request

from lmp_console.csrf import renew_token

SESSION_USER = "user"


class SignInRequiredError(Exception):
    """Nobody is signed in (or the session ended): app.py sends the browser to /signin."""

    def __init__(self, next_url: str = "/") -> None:
        super().__init__(next_url)
        self.next_url = next_url


@dataclass(frozen=True)
class User:
    subject: str
    roles: frozenset[str]
    cities: frozenset[str]
    name: str = ""

    @property
    def display_name(self) -> str:
        return self.name or self.subject

    @property
    def all_cities(self) -> bool:
        return ALL_CITIES in self.cities

    def may_see(self, city_id: str) -> bool:
        return self.all_cities or city_id in self.cities

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def to_session(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "roles": sorted(self.roles),
            "cities": sorted(self.cities),
            "name": self.name,
        }

    @classmethod
    def from_session(cls, data: object) -> User | None:
        if not isinstance(data, dict):
            return None
        subject = data.get("subject")
        roles = data.get("roles")
        cities = data.get("cities")
        name = data.get("name", "")
        if not isinstance(subject, str) or roles is None or cities is None:
            return None
        if not _strings(roles) or not _strings(cities):
            return None
        return cls(
            subject=subject,
            roles=frozenset(str(r) for r in roles),
            cities=frozenset(str(c) for c in cities),
            name=name if isinstance(name, str) else "",
        )


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def current_user(request: Request) -> User | None:
    return User.from_session(request.session.get(SESSION_USER))


def require_user(request: Request) -> User:
    user = current_user(request)
    if user is None:
        path = request.url.path
        query = request.url.query
        raise SignInRequiredError(path + (f"?{query}" if query else ""))
    return user


def sign_in(request: Request, user: User) -> None:
    """A new session for `user`: nothing of an earlier one (or of a sign-in under way) stays,
    and its forms get a new CSRF token."""
    request.session.clear()
    request.session[SESSION_USER] = user.to_session()
    renew_token(request.session)


def sign_out(request: Request) -> None:
    request.session.clear()


def parse_cities(text: str | Iterable[str]) -> frozenset[str]:
    parts = text.split(",") if isinstance(text, str) else list(text)
    return frozenset(part.strip() for part in parts if part.strip())


class CityForbiddenError(Exception):
    """The signed-in user's token does not allow this city: app.py answers 403 with no data."""

    def __init__(self, city_id: str) -> None:
        super().__init__(city_id)
        self.city_id = city_id


def require_city(user: User, city_id: str) -> None:
    if not user.may_see(city_id):
        raise CityForbiddenError(city_id)
