"""The suites as a pytest plugin: ``pytest conformance --scim-url URL --token T [-m token_auth]``.

Each check is a test item named by its id (``conformance/token_auth.py::TA-003``) and marked
with its area (``token_auth``, ``attribute_filtering``, ``deactivation``, ``sso_linking``,
``rfc_core``, ``tenancy``, ``idp_readiness``). The selected checks run once, in one session
against the target, when the first item runs; each item then reports its own result: pass,
fail (with the exchange that showed it) or skipped as "not applicable" with the reason.
``conformance/conftest.py`` loads this plugin, so the repository's default ``pytest`` run
(``testpaths = tests``) never collects it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from conformance.registry import AREAS, Check, all_checks
from conformance.runner import CheckResult, Outcome, RunReport, run_checks
from conformance.target import Peer, Target, TargetError

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "pytest_addoption",
    "pytest_collect_file",
    "pytest_configure",
    "pytest_sessionfinish",
]

_OPTIONS = (
    ("--scim-url", "SCIM base URL of the target"),
    ("--token-url", "OAuth 2.0 token endpoint"),
    ("--client-id", "OAuth client id"),
    ("--client-secret", "OAuth client secret"),
    ("--token", "bearer token instead of OAuth"),
    ("--platform-url", "platform base URL (lifecycle and sign-in checks)"),
    ("--admin-key", "practice administrator API key"),
    ("--peer-scim-url", "a second tenant's SCIM URL"),
    ("--peer-token", "a bearer token of the second tenant"),
    ("--report-dir", "write JSON, JUnit XML and HTML reports here"),
)
_REPORT = pytest.StashKey[RunReport]()
_HERE = Path(__file__).resolve().parent


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "scimlab conformance suites")
    for flag, help_text in _OPTIONS:
        group.addoption(flag, default=None, help=help_text)


def pytest_configure(config: pytest.Config) -> None:
    for area in AREAS:
        config.addinivalue_line("markers", f"{area.marker}: {area.label} checks ({area.code}-*)")


def _target(config: pytest.Config) -> Target:
    option = config.getoption
    peer_url, peer_token = option("peer_scim_url"), option("peer_token")
    try:
        return Target(
            scim_url=option("scim_url"),
            token_url=option("token_url"),
            client_id=option("client_id"),
            client_secret=option("client_secret"),
            token=option("token"),
            platform_url=option("platform_url"),
            platform_admin=option("admin_key"),
            peer=Peer(peer_url, peer_token) if peer_url and peer_token else None,
        )
    except TargetError as error:
        raise pytest.UsageError(f"conformance: {error}") from None


class CheckFailure(Exception):
    """A check failed; carries its result for the failure report."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.message)
        self.result = result


class CheckItem(pytest.Item):
    def __init__(self, *, check: Check, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.add_marker(check.area.marker)

    def runtest(self) -> None:
        report = self.config.stash.get(_REPORT, None)
        if report is None:
            chosen = [i.check.id for i in self.session.items if isinstance(i, CheckItem)]
            report = _run(self.config, chosen)
            self.config.stash[_REPORT] = report
        result = next(r for r in report.results if r.check.id == self.check.id)
        if result.outcome is Outcome.NOT_APPLICABLE:
            pytest.skip(f"not applicable: {result.message}")
        if result.outcome is Outcome.FAIL:
            raise CheckFailure(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CheckFailure):
            result = excinfo.value.result
            lines = [
                f"{self.check.id} {self.check.title}",
                result.message,
                f"rule: {self.check.rule}",
            ]
            if result.evidence is not None:
                lines += ["", result.evidence.as_text()]
            return "\n".join(lines)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.check.id} {self.check.title}"


class AreaModule(pytest.File):
    def collect(self) -> Iterator[CheckItem]:
        module = f"conformance.{self.path.stem}"
        for check in all_checks():
            if check.run.__module__ == module:
                yield CheckItem.from_parent(self, name=check.id, check=check)


def _run(config: pytest.Config, ids: list[str]) -> RunReport:
    target = _target(config)

    async def go() -> RunReport:
        async with httpx.AsyncClient(timeout=30.0) as client:
            return await run_checks(target, client, ids=ids)

    return asyncio.run(go())


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> AreaModule | None:
    if file_path.parent.resolve() != _HERE or file_path.suffix != ".py":
        return None
    modules = {c.run.__module__ for c in all_checks()}
    if f"conformance.{file_path.stem}" not in modules:
        return None
    if parent.config.getoption("scim_url") is None:
        raise pytest.UsageError("conformance: give the target with --scim-url (and its auth)")
    return AreaModule.from_parent(parent, path=file_path)


def pytest_sessionfinish(session: pytest.Session) -> None:
    report = session.config.stash.get(_REPORT, None)
    if report is None:
        return
    directory = session.config.getoption("report_dir", None)
    if directory:
        from conformance.report import write_reports  # noqa: PLC0415 - only when asked

        write_reports(report, Path(directory))
    terminal = session.config.pluginmanager.get_plugin("terminalreporter")
    if report.rotated_credentials is not None and terminal is not None:
        client_id, secret = report.rotated_credentials
        terminal.write_line(
            "conformance: the lifecycle checks rotated the SCIM credentials; give the identity "
            f"provider client id {client_id} and client secret {secret} (shown once)"
        )
