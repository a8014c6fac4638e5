"""A portal written in Node.js against real services: the contract checked from outside Python.

`clients/node-portal/portal.mjs` loads the .proto files at run time (@grpc/grpc-js and
@grpc/proto-loader, pinned by its package-lock.json; `npm ci` runs here when node_modules is
missing or was installed from another lock), drives a few calls of a programme cycle, and
checks the receipt proofs and the webhook signature with node:crypto from docs/api/portal.md
alone. The worked examples of that guide are checked here against the services' own code, so
the guide, the services and the Node client agree.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from notifications.domain.messages import signature
from voting.domain.merkle import inclusion_proof, leaf_hash, merkle_root

from .conftest import Slice

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "node-portal"
GUIDE = ROOT / "docs" / "api" / "portal.md"
NODE = shutil.which("node")
NPM = shutil.which("npm")
INSTALLED_FROM = CLIENT / "node_modules" / ".lmp-package-lock.sha256"
EXAMPLE = re.compile(
    r"<!-- worked example: (?P<name>[^>]+) -->\s*```[a-z]*\n(?P<body>.*?)\n```", re.DOTALL
)


def worked_example(name: str) -> dict[str, str]:
    """A worked example of the guide, read the way the Node client reads it (guide.mjs)."""
    examples = {m["name"]: m["body"] for m in EXAMPLE.finditer(GUIDE.read_text(encoding="utf-8"))}
    pairs = (re.match(r"^(\S+)\s+(.*)$", line) for line in examples[name].splitlines())
    return {m[1]: m[2] for m in pairs if m}


@pytest.fixture(scope="session")
def node_client() -> Path:
    if NODE is None or NPM is None:
        if os.environ.get("CI"):  # CI's machine has Node.js: its absence is a broken CI
            pytest.fail("no node and npm on the PATH: CI checks the API from Node.js")
        pytest.skip("no node and npm on the PATH (Node.js 18 or later)")
    lock = hashlib.sha256((CLIENT / "package-lock.json").read_bytes()).hexdigest()
    if not INSTALLED_FROM.exists() or INSTALLED_FROM.read_text() != lock:
        # --ignore-scripts: nothing the client needs runs at install time.
        subprocess.run(
            [NPM, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=CLIENT,
            check=True,
            timeout=600,
        )
        INSTALLED_FROM.write_text(lock)
    return CLIENT


@pytest.fixture
def portal_stack(slice_factory: Callable[..., Slice]) -> Slice:
    """Registry, voting and notifications, which may post webhooks to this machine."""
    made = slice_factory()
    made.env["LMP_VOTING_PSEUDONYM_KEY"] = "an-integration-test-pseudonym-master-key"
    made.env["LMP_WEBHOOK_ALLOW_PRIVATE"] = "true"
    for name in ("registry", "voting", "notifications"):
        made.start(name)
    return made


def test_a_node_portal_drives_a_programme_cycle_and_verifies_receipts_and_webhooks_itself(
    portal_stack: Slice, node_client: Path
):
    stack = portal_stack
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LMP_PROTO_DIR": str(ROOT / "proto"),
        "LMP_PORTAL_GUIDE": str(GUIDE),
        "LMP_REGISTRY_TARGET": stack.target("registry"),
        "LMP_VOTING_TARGET": stack.target("voting"),
        "LMP_NOTIFICATIONS_TARGET": stack.target("notifications"),
        "LMP_CITY": "sarov",
        "LMP_TOKEN_OFFICE": stack.token("programme_office", cities=("*",)),
        "LMP_TOKEN_GROUP": stack.token("working_group", cities=("sarov",)),
        "LMP_TOKEN_PORTAL": stack.token("portal", cities=("sarov",)),
        "LMP_TOKEN_OTHER_CITY": stack.token("working_group", cities=("seversk",)),
    }
    assert NODE is not None
    ran = subprocess.run(
        [NODE, "portal.mjs"],
        cwd=node_client,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=240,
        check=False,
    )
    print(ran.stdout)  # noqa: T201  # what the Node portal did, in the test's output
    print(ran.stderr)  # noqa: T201  # and why it failed, if it did
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.rstrip().endswith("node portal: every check held")


def test_the_guides_webhook_example_is_what_notifications_signs():
    example = worked_example("webhook signature")
    body = example["body"].encode()

    assert len(body) == int(example["body_bytes"])
    assert (
        signature(example["secret"], example["X-LMP-Timestamp"], body) == example["X-LMP-Signature"]
    )


def test_the_guides_receipt_proof_example_is_what_voting_computes():
    example = worked_example("receipt proof")
    size = int(example["size"])
    receipts = [example[f"receipt[{i}]"] for i in range(size)]

    assert [leaf_hash(r).hex() for r in receipts] == [example[f"leaf[{i}]"] for i in range(size)]
    assert merkle_root(receipts) == example["root"]
    assert merkle_root([]) == example["root_of_none"]
    for index in (2, 4):
        assert inclusion_proof(receipts, index) == example[f"proof[{index}]"].split(" ")
    assert example["node[0:4]"] == example["proof[4]"]
