"""Developer sessions. ``nox`` alone runs what CI runs: tests, typecheck, lint, docs."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "virtualenv"
nox.options.sessions = ["tests", "typecheck", "lint", "docs"]
nox.options.reuse_venv = "yes"

PYPROJECT = nox.project.load_toml("pyproject.toml")
EXTRAS = ".[postgres,signing,erp,nats,webhooks,web,ocr,risk]"
"""The extras every session installs (their tests run against the real services)."""


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite (PostgreSQL and browser tests included when reachable)."""
    session.install("-e", EXTRAS, *_group("test"))
    args = session.posargs or ["-n", "2", "-q"]
    session.run("pytest", *args)


@nox.session
def nightly(session: nox.Session) -> None:
    """The long crash and race loops (thousands of kills instead of hundreds)."""
    session.install("-e", EXTRAS, *_group("test"))
    session.run("pytest", "-m", "slow", "-q", *session.posargs, env={"ORDERFLOW_NIGHTLY": "1"})


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over src, tests, benchmarks and examples."""
    session.install("-e", EXTRAS, *_group("typecheck"))
    session.run("mypy", "--strict")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install(*_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the Sphinx docs; any warning fails the build."""
    session.install("-e", EXTRAS[:-1] + ",testing]", *_group("docs"))
    session.run(
        "sphinx-build", "-W", "--keep-going", "-b", "html", "-q", "docs", "docs/_build/html"
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Run every benchmark script (prints figures; compares with peers in the same run)."""
    session.install("-e", EXTRAS, *_group("bench"))
    scripts = session.posargs or sorted(
        str(p) for p in __import__("pathlib").Path("benchmarks").glob("bench_*.py")
    )
    for script in scripts:
        session.run("python", script)
