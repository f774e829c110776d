"""Shell completion of options and values (issue 9): the start-up fast path must not hide them."""

from __future__ import annotations

import pytest

from conftest import run_cli


def complete(words: str, shell: str = "bash") -> list[str]:
    """What the shell would be offered for ``words`` (the last word being typed)."""
    parts = words.split(" ")
    r = run_cli(
        [],
        env={
            "_TRIANGULATE_COMPLETE": f"complete_{shell}",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(parts) - 1),
        },
    )
    assert r.exit_code == 0, str(r)
    return r.stdout.split()


def test_options_of_validate_complete() -> None:
    offered = complete("triangulate validate --")
    for option in ("--format", "--strict", "--select", "--ignore"):
        assert option in offered, offered


def test_format_value_completes() -> None:
    assert complete("triangulate validate --format g") == ["github"]


@pytest.mark.parametrize(
    ("typed", "expected"), [("triangulate val", "validate"), ("triangulate ru", "run")]
)
def test_commands_complete(typed: str, expected: str) -> None:
    assert expected in complete(typed)
