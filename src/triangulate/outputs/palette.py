"""Category colours and one-letter marks, shared by every output that shows a category.

The colours are chosen by the category's role in the protocol's rule, from the Okabe-Ito
colour-blind-safe palette (Okabe M, Ito K. Color Universal Design. 2008), so that they stay apart
in colour, in greyscale (a printed page) and under deuteranopia:

| role | colour | CIE L* |
|---|---|---|
| ``all`` (agreement) | Okabe-Ito blue, darkened ``#004D80`` | 31.5 |
| ``none`` / ``conflict`` (dissonance) | vermillion ``#D55E00`` | 54.2 |
| ``some`` (partial agreement) | sky blue ``#56B4E9`` | 69.8 |
| ``one_source`` (silence) | pale grey ``#EEEEEE`` | 94.1 |

Judgement-only categories (and a ``conflict`` category distinct from ``none``) take the
protocol's ``color`` when it gives one, else the next Okabe-Ito colour; every category also has a
one-letter mark, so no reading depends on colour alone. ``python -m triangulate.outputs.palette``
prints the colour differences (CIEDE2000 and CIE76) of a built-in protocol's categories, normally,
in greyscale and under simulated deuteranopia (Machado, Oliveira, Fernandes 2009, severity 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from triangulate.project.models import Protocol

ROLE_COLOURS = {
    "all": "#004D80",
    "none": "#D55E00",
    "some": "#56B4E9",
    "one_source": "#EEEEEE",
}
EXTRA_COLOURS = ("#CC79A7", "#E69F00", "#009E73", "#F0E442", "#999999")
"""Okabe-Ito reddish purple, orange, bluish green, yellow, then grey, for other categories."""

NO_CATEGORY = "#FFFFFF"
"""Disputed or uncoded cells: white, marked ``?`` (disputed) or ``-`` (uncoded)."""


@dataclass(frozen=True)
class CategoryStyle:
    id: str
    label: str
    colour: str  # "#RRGGBB"
    text: str  # "#000000" or "#FFFFFF": whichever reads better on ``colour``
    mark: str  # one letter, unique within the protocol


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance."""
    r, g, b = (_linear(c) for c in _rgb(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_colour(hex_colour: str) -> str:
    """Black or white, whichever has the higher WCAG contrast ratio on the colour."""
    lum = luminance(hex_colour)
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#FFFFFF"


# Machado, Oliveira & Fernandes (2009), deuteranomaly at severity 1.0, on linear RGB.
DEUTERANOPIA = (
    (0.367322, 0.860646, -0.227968),
    (0.280085, 0.672501, 0.047413),
    (-0.011820, 0.042940, 0.968881),
)


def lab(hex_colour: str, view: str = "normal") -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB colour as seen ``normal``, in ``grey`` or with ``deuteranopia``."""
    rgb = [_linear(c) for c in _rgb(hex_colour)]
    if view == "deuteranopia":
        rgb = [min(1.0, max(0.0, sum(m * v for m, v in zip(row, rgb)))) for row in DEUTERANOPIA]
    r, g, b = rgb
    x = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = 0.0193339 * r + 0.1191920 * g + 0.9503041 * b

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = f(x / 0.95047), f(y), f(z / 1.08883)
    lightness = 116 * fy - 16
    if view == "grey":
        return (lightness, 0.0, 0.0)
    return (lightness, 500 * (fx - fy), 200 * (fy - fz))


def delta_e76(p: tuple[float, float, float], q: tuple[float, float, float]) -> float:
    return math.dist(p, q)


def delta_e2000(p: tuple[float, float, float], q: tuple[float, float, float]) -> float:
    """CIEDE2000 (Sharma, Wu, Dalal 2005)."""
    l1, a1, b1 = p
    l2, a2, b2 = q
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar**7 / (c_bar**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dlp, dcp = l2 - l1, c2p - c1p
    if c1p * c2p == 0:
        dhp = 0.0
    elif abs(h2p - h1p) <= 180:
        dhp = h2p - h1p
    elif h2p - h1p > 180:
        dhp = h2p - h1p - 360
    else:
        dhp = h2p - h1p + 360
    dhp_big = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dhp / 2))
    lbp, cbp = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        hbp = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hbp = (h1p + h2p) / 2
    elif h1p + h2p < 360:
        hbp = (h1p + h2p + 360) / 2
    else:
        hbp = (h1p + h2p - 360) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(hbp - 30))
        + 0.24 * math.cos(math.radians(2 * hbp))
        + 0.32 * math.cos(math.radians(3 * hbp + 6))
        - 0.20 * math.cos(math.radians(4 * hbp - 63))
    )
    d_theta = 30 * math.exp(-(((hbp - 275) / 25) ** 2))
    rc = 2 * math.sqrt(cbp**7 / (cbp**7 + 25**7))
    sl = 1 + 0.015 * (lbp - 50) ** 2 / math.sqrt(20 + (lbp - 50) ** 2)
    sc = 1 + 0.045 * cbp
    sh = 1 + 0.015 * cbp * t
    rt = -math.sin(math.radians(2 * d_theta)) * rc
    return math.sqrt(
        (dlp / sl) ** 2 + (dcp / sc) ** 2 + (dhp_big / sh) ** 2 + rt * (dcp / sc) * (dhp_big / sh)
    )


def _marks(labels: list[str]) -> list[str]:
    """One distinct letter per label: its first letter, else its next unused letter, else A-Z."""
    used: set[str] = set()
    out = []
    for label in labels:
        letters = [ch.upper() for ch in label if ch.isalpha()]
        pick = next((ch for ch in letters if ch not in used), None)
        if pick is None:
            pick = next(ch for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" if ch not in used)
        used.add(pick)
        out.append(pick)
    return out


def category_styles(protocol: Protocol) -> dict[str, CategoryStyle]:
    """Colour, text colour and mark of each of the protocol's categories (protocol order)."""
    rules = protocol.rules
    role_of: dict[str, str] = {}
    for role in ("all", "some", "none", "one_source"):
        cid = getattr(rules, role, None)
        if cid and cid not in role_of:
            role_of[cid] = role
    extras = iter(EXTRA_COLOURS)
    marks = _marks([c.label or c.id for c in protocol.categories])
    styles: dict[str, CategoryStyle] = {}
    for c, mark in zip(protocol.categories, marks):
        found = role_of.get(c.id)
        colour: str
        if found is not None:
            colour = ROLE_COLOURS[found]
        elif c.color:
            colour = c.color.upper()
        else:
            colour = next(extras, "#999999")
        styles[c.id] = CategoryStyle(c.id, c.label or c.id, colour, text_colour(colour), mark)
    return styles


def separations(colours: list[str]) -> dict[str, dict[str, float]]:
    """The smallest colour difference between any two of the colours, per view and formula."""
    out: dict[str, dict[str, float]] = {}
    for view in ("normal", "grey", "deuteranopia"):
        pairs = list(combinations([lab(c, view) for c in colours], 2))
        out[view] = {
            "CIEDE2000": min(delta_e2000(p, q) for p, q in pairs),
            "CIE76": min(delta_e76(p, q) for p, q in pairs),
        }
    return out


def _main() -> None:  # pragma: no cover - a measuring aid for the notes
    import sys

    import yaml

    from triangulate.project.loading import builtin_protocols_dir
    from triangulate.project.models import Protocol

    folder = builtin_protocols_dir()
    assert folder is not None
    for pid in sys.argv[1:] or sorted(p.stem for p in folder.glob("*.yaml")):
        raw = yaml.safe_load((folder / f"{pid}.yaml").read_text(encoding="utf-8"))
        styles = category_styles(Protocol.model_validate(raw))
        sys.stdout.write(f"{pid}:\n")
        for s in styles.values():
            L = lab(s.colour)[0]
            sys.stdout.write(f"  {s.mark} {s.label:<22} {s.colour}  L*={L:.1f}\n")
        for view, figures in separations([s.colour for s in styles.values()]).items():
            sys.stdout.write(
                f"  min dE {view:<13} "
                + "  ".join(f"{k} {v:.1f}" for k, v in figures.items())
                + "\n"
            )


if __name__ == "__main__":  # pragma: no cover
    _main()
