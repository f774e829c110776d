"""`triangulate --help` and `--version` start fast: no pandas, and no subcommand parameters built."""

from __future__ import annotations

import subprocess
import sys

import pytest

from triangulate.cli import commands as cli


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--version"], []])
def test_the_lean_start_prints_exactly_what_the_full_build_prints(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lean = _main(args, capsys)
    monkeypatch.setattr(
        cli, "ROOT_ONLY_ARGS", ()
    )  # build every subcommand, as any other command line does
    full = _main(args, capsys)
    assert lean == full
    assert lean[1] or lean[2]


def test_subcommand_help_still_shows_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _main(["run", "--help"], capsys)
    assert code == 0 and "--redact" in out and "--strict" in out


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_no_heavy_module(flag: str) -> None:
    probe = (
        "import sys\n"
        "from triangulate.cli import main\n"
        "try:\n"
        f"    main([{flag!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('pandas', 'numpy', 'openpyxl', 'pydantic', 'yaml', 'rich') if m in sys.modules)\n"
        "sys.stderr.write(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stderr == ""
