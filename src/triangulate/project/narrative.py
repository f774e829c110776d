"""Spec 10.2: ``narrative.yaml``, the researchers' own text for report steps and themes.

```yaml
convergence_assessment: |
  Most factors converged ...
themes:
  point_of_contact: Staff and partners both ...
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from triangulate.findings import Finding, Location, error
from triangulate.project.models import Codebook, Protocol
from triangulate.project.yamlio import parse_yaml, read_text_file


@dataclass
class Narrative:
    steps: dict[str, str] = field(default_factory=dict)
    themes: dict[str, str] = field(default_factory=dict)


def read_narrative(
    root: Path, shown: str, protocol: Protocol, codebook: Codebook
) -> tuple[Narrative, list[Finding]]:
    text, findings = read_text_file(root / shown, shown)
    if text is None:
        return Narrative(), findings
    doc, findings = parse_yaml(text, shown)
    if doc is None:
        return Narrative(), findings
    if doc.data is None:
        return Narrative(), []
    if not isinstance(doc.data, dict):
        return Narrative(), [
            error(
                "yaml.not-a-mapping",
                "narrative.yaml must map step ids (and 'themes') to text",
                Location(shown, 1, 1),
            )
        ]
    steps = [s.id for s in protocol.steps]
    theme_ids = [t.id for t in codebook.themes]
    out = Narrative()
    for key, value in doc.data.items():
        key_s = str(key)
        if key_s == "themes":
            if not isinstance(value, dict):
                findings.append(
                    error(
                        "yaml.invalid-value",
                        "'themes' must map theme ids to text",
                        doc.where_value(("themes",)),
                    )
                )
                continue
            for tid, ttext in value.items():
                if str(tid) not in theme_ids:
                    findings.append(
                        error(
                            "narrative.unknown-key",
                            f"'{tid}' under 'themes' is not a theme of the codebook; use a theme id",
                            doc.where(("themes", tid)),
                        )
                    )
                elif not isinstance(ttext, str):
                    findings.append(
                        error(
                            "yaml.invalid-value",
                            f"the narrative of theme '{tid}' must be text",
                            doc.where_value(("themes", tid)),
                        )
                    )
                else:
                    out.themes[str(tid)] = ttext.strip()
            continue
        if key_s not in steps:
            findings.append(
                error(
                    "narrative.unknown-key",
                    f"'{key_s}' is not a step of protocol {protocol.id} (steps: {', '.join(steps)}) nor 'themes'",
                    doc.where((key,)),
                )
            )
        elif not isinstance(value, str):
            findings.append(
                error(
                    "yaml.invalid-value",
                    f"the narrative of step '{key_s}' must be text",
                    doc.where_value((key,)),
                )
            )
        else:
            out.steps[key_s] = value.strip()
    return out, findings
