"""Category colours stay apart in colour, in greyscale and for colour-blind readers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from triangulate.outputs.palette import (
    category_styles,
    delta_e2000,
    lab,
    luminance,
    separations,
)
from triangulate.project.models import Protocol

PROTOCOLS = Path(__file__).resolve().parents[1] / "protocols"


# Sharma G, Wu W, Dalal EN. The CIEDE2000 color-difference formula: implementation notes,
# supplementary test data, and mathematical observations. Color Res Appl. 2005;30(1):21-30,
# Table 1 (pairs 1, 7, 17, 25 and 34).
@pytest.mark.parametrize(
    ("p", "q", "expected"),
    [
        ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
        ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
        ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
        ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
        ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
    ],
)
def test_ciede2000_matches_sharma_2005(
    p: tuple[float, float, float], q: tuple[float, float, float], expected: float
) -> None:
    assert delta_e2000(p, q) == pytest.approx(expected, abs=5e-5)
    assert delta_e2000(q, p) == pytest.approx(expected, abs=5e-5)


def test_lab_of_srgb_primaries() -> None:
    # CIE L*a*b* (D65) of sRGB white, red and blue (as published for sRGB)
    assert lab("#FFFFFF") == pytest.approx((100.0, 0.0, 0.0), abs=0.05)
    assert lab("#FF0000") == pytest.approx((53.24, 80.09, 67.20), abs=0.05)
    assert lab("#0000FF") == pytest.approx((32.30, 79.19, -107.86), abs=0.05)
    # Machado 2009 deuteranopia keeps a neutral grey neutral
    assert lab("#777777", "deuteranopia") == pytest.approx(lab("#777777"), abs=0.2)


def _styles(pid: str) -> list[str]:
    raw = yaml.safe_load((PROTOCOLS / f"{pid}.yaml").read_text(encoding="utf-8"))
    return [s.colour for s in category_styles(Protocol.model_validate(raw)).values()]


@pytest.mark.parametrize("pid", sorted(p.stem for p in PROTOCOLS.glob("*.yaml")))
def test_category_colours_are_apart_normally_in_grey_and_for_deuteranopes(pid: str) -> None:
    # The issue measured the old tints at dE 12 (full agreement vs silence) and 10.6 (partial
    # agreement vs disagreement) under deuteranopia, and L* 83-90 in grey.
    figures = separations(_styles(pid))
    assert figures["normal"]["CIEDE2000"] >= 20
    assert figures["deuteranopia"]["CIEDE2000"] >= 20
    assert figures["grey"]["CIEDE2000"] >= 12
    assert figures["grey"]["CIE76"] >= 15  # L* steps of at least 15 on a greyscale print


@pytest.mark.parametrize("pid", sorted(p.stem for p in PROTOCOLS.glob("*.yaml")))
def test_every_category_has_its_own_mark_and_readable_text(pid: str) -> None:
    raw = yaml.safe_load((PROTOCOLS / f"{pid}.yaml").read_text(encoding="utf-8"))
    styles = category_styles(Protocol.model_validate(raw))
    marks = [s.mark for s in styles.values()]
    assert len(set(marks)) == len(marks) and all(len(m) == 1 for m in marks)
    for s in styles.values():
        hi, lo = sorted((luminance(s.colour), luminance(s.text)), reverse=True)
        assert (hi + 0.05) / (lo + 0.05) >= 4.5, s  # WCAG AA for the mark on its fill
