from __future__ import annotations

import re

from lmp_kit.errors import InvalidArgumentError

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def check_month(month: str) -> str:
    if not MONTH.fullmatch(month):
        msg = f"month must be YYYY-MM (e.g. 2026-11), not {month!r}"
        raise InvalidArgumentError(msg)
    return month
