"""schemathesis against the running app: every operation of /api/openapi.json, with a real
token, positive and negative data, on SQLite and PostgreSQL: no server error, every response
(status, content type, headers, body) matches the document, and the ``Server`` header names
no versions.

schemathesis' engine is synchronous (requests); it runs in a worker thread while the server
answers on the test's loop. Bounded: ``SCHEMATHESIS_EXAMPLES`` cases per operation and mode
(default 25), derandomized, no example database.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import aiohttp
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from composition import Server
from tests.conftest import Account, register

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))


def server_header_names_no_versions(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    server = response.headers.get("server")  # lower-case keys, list values
    if server != ["vmeste"]:
        raise AssertionError(f"Server header {server!r}: it must be 'vmeste', no versions")
    return None


CHECKS = [
    not_a_server_error,
    server_header_names_no_versions,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _run(document: dict[str, Any], base_url: str, token: str) -> list[str]:
    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: schemathesis.Case) -> None:
                if "Authorization" not in (case.headers or {}):
                    case.headers = {**(case.headers or {}), **headers}
                response = case.call(base_url=base_url, session=session, timeout=10)
                case.validate_response(response, checks=CHECKS)

            try:
                check()
            except Unsatisfiable:
                # Nothing to make invalid: the operation takes no parameters and no body.
                assert mode is GenerationMode.NEGATIVE, operation.path
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - one report for all
                report = str(exc)
                if len(report) > 1500:  # generated values can be kilobytes long
                    report = report[:1500] + " [...]"
                label = f"{operation.method.upper()} {operation.path} ({mode.value})"
                failures.append(f"{label}: {report}")
    session.close()
    return failures


async def test_every_operation_matches_the_document(db_server: Server) -> None:
    """On SQLite and PostgreSQL (which refuses NUL in text: generated strings carry it)."""
    server = db_server
    async with aiohttp.ClientSession(base_url=server.url) as http:
        account: Account = await register(http, "schema_anna")
        # Something for the generated ids and codes to find now and then.
        async with http.post(
            "/api/rooms", json={"title": "Schema room"}, headers=account.headers
        ) as response:
            assert response.status == 201, await response.text()
        async with http.get("/api/openapi.json") as response:
            document = await response.json()
    failures = await asyncio.to_thread(_run, document, server.url, account.token)
    assert not failures, "\n\n".join(failures)
