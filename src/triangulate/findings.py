"""Findings: every problem the tool reports about a project's inputs.

A finding has a stable ``code`` (never renamed), a ``severity`` and a location kept as data
(file, line and column for YAML and JSONL; file, row and column name for tables). Renderers
decide how to print it. The library never prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"  # a note on how an input was read; never fails a command, not even --strict


@dataclass(frozen=True)
class Location:
    """Where a finding is. ``file`` is as the user would type it (relative to the project)."""

    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based character column (YAML)
    row: int | None = None  # 1-based data row in a table (header excluded)
    field: str | None = None  # column name in a table, or a dotted key path in YAML

    def to_dict(self) -> dict[str, Any]:
        """As JSON: ``column`` is the 1-based character column in YAML, and the column *name* for
        a table (as the spec words a location: "row and column name for tables"); ``field`` always
        holds the column name or the YAML key path."""
        column: int | str | None = self.column
        if column is None and self.row is not None:
            column = self.field
        return {
            "file": self.file,
            "line": self.line,
            "column": column,
            "row": self.row,
            "field": self.field,
        }


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    location: Location = field(default_factory=Location)
    # Values from the data quoted in ``message`` (excerpt text, participant, case or source names):
    # a redacting renderer (``--redact``, ``--format github``) leaves them out. Never rendered.
    data: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "location": self.location.to_dict(),
        }


# Finding codes whose errors mean "could not run" (exit 2) rather than "inputs have errors" (exit 1).
COULD_NOT_RUN = frozenset(
    {
        "project.not-found",
        "file.missing",
        "file.unreadable",
        "data.needs-extra",
    }
)


@dataclass(frozen=True)
class Code:
    """One finding code: what it means, a finding as ``triangulate validate`` prints it, and the fix.

    ``docs/findings.md`` and ``triangulate explain CODE`` are generated from these entries.
    """

    meaning: str
    example: str
    fix: str
    severity: str = ""  # when the code is both: "error or warning" (else read from the example)
    # The message may quote data (excerpt text, participant, case or source names): when a finding
    # of this code marks no ``data``, a redacting renderer shows the meaning instead of the message.
    quotes_data: bool = False


# The catalogue: every finding code the tool can emit, in the order the docs list them. Codes are
# never renamed; a test fails when one is emitted that is not here.
CATALOGUE: dict[str, Code] = {
    "project.not-found": Code(
        "The project folder or its triangulate.yaml does not exist.",
        "my-study/triangulate.yaml: error: no project here: my-study/triangulate.yaml does not exist (create one with 'triangulate init') [project.not-found]",
        "Give the project folder (or its triangulate.yaml) as the first argument, or run the command inside the folder.",
    ),
    "file.missing": Code(
        "A file named by the project (codebook, protocol, source) does not exist.",
        "data/interviews.csv: error: file not found: data/interviews.csv (check the path in the project file: paths are relative to the folder that holds it) [file.missing]",
        "Check the `path` (or `codebook`, `protocol`) in triangulate.yaml: it is relative to the folder that holds triangulate.yaml.",
    ),
    "file.unreadable": Code(
        "A file exists but cannot be read (permissions, a folder, not a file).",
        "data/interviews.csv: error: cannot read data/interviews.csv: Permission denied [file.unreadable]",
        "Make the file readable by you, or point the project at a file rather than a folder.",
    ),
    "yaml.syntax": Code(
        "A YAML file is not valid YAML.",
        "codebook.yaml:7:5: error: mapping values are not allowed here (fix the YAML syntax here) [yaml.syntax]",
        "Fix the YAML at the line shown: usually a missing space after `:`, a tab used for indentation, or an unclosed quote or bracket.",
    ),
    "yaml.not-a-mapping": Code(
        "A YAML file's top level is not a mapping of keys to values.",
        "codebook.yaml:1:1: error: the codebook must be a mapping of keys to values (it is list) [yaml.not-a-mapping]",
        "Start the file with `key: value` lines (for example `themes:`), not with a list or a plain value.",
    ),
    "yaml.too-complex": Code(
        "A YAML file expands to too many nodes (for example an alias bomb).",
        "codebook.yaml:1:1: error: the document expands to more than 200,000 nodes (anchors and aliases repeated too often); write the values out plainly [yaml.too-complex]",
        "Write the values out instead of nesting anchors (`&name`) and aliases (`*name`), and keep nesting shallow.",
    ),
    "yaml.unknown-key": Code(
        "A key that the format does not define (usually a typo).",
        "triangulate.yaml:3:1: error: unknown key 'reviewer'; allowed here: title, protocol, codebook, sources, reviewers, output (check the spelling) [yaml.unknown-key]",
        "Correct the spelling of the key (here `reviewers`) or remove it; the message lists the keys allowed at that place.",
    ),
    "yaml.missing-key": Code(
        "A required key is missing.",
        "triangulate.yaml:5:5: error: required key 'path' is missing; add it [yaml.missing-key]",
        "Add the key to the mapping shown.",
    ),
    "yaml.invalid-value": Code(
        "A value has the wrong type or form.",
        "triangulate.yaml:7:11: error: 'sources[0].kind': Input should be 'excerpts', 'survey' or 'survey_responses' (got 'interviews') [yaml.invalid-value]",
        "Give a value of the kind the message asks for; quote values that YAML would otherwise read as numbers or dates.",
    ),
    "yaml.unsafe-tag": Code(
        "A YAML tag (such as !!python/object) that would build objects or run code.",
        "triangulate.yaml:2:11: error: the tag '!!python/object/apply:os.system' is not allowed: only plain YAML is read (no tags that build objects or run code); remove it [yaml.unsafe-tag]",
        "Remove the tag (the `!!...` or `!...` word) and write a plain value.",
    ),
    "yaml.duplicate-key": Code(
        "A key appears twice in one YAML mapping (the first value would be lost).",
        "codebook.yaml:40:1: error: key 'themes' appears twice in this mapping (first on line 9); only one would be kept: merge them or rename one [yaml.duplicate-key]",
        "Merge the two entries into one key, or rename one of them.",
    ),
    "project.duplicate-source": Code(
        "Two sources share one id.",
        "triangulate.yaml:9:9: error: source id 'interviews' is used twice [project.duplicate-source]",
        "Give each source its own id.",
    ),
    "project.duplicate-reviewer": Code(
        "A reviewer id is listed twice.",
        "triangulate.yaml:12:16: error: reviewer 'bb' is listed twice [project.duplicate-reviewer]",
        "List each reviewer once.",
    ),
    "project.too-few-sources": Code(
        "Triangulation needs at least two sources.",
        "triangulate.yaml:4:1: error: triangulation compares sources: list at least two under 'sources' [project.too-few-sources]",
        "Add a second data source under `sources`.",
    ),
    "project.source-option": Code(
        "An option given for a source does not apply to its kind.",
        "triangulate.yaml:8:5: error: 'codes' applies to kind 'survey_responses' only (source 'interviews' is 'excerpts') [project.source-option]",
        "Remove the option, or change the source's `kind` to the one it applies to.",
    ),
    "project.output-collision": Code(
        "An output file would overwrite an input file (a source, the codebook, a worksheet).",
        "triangulate.yaml:14:9: error: the output folder 'data' would overwrite the input data/sorting.csv (with sorting.csv); choose another 'output' folder [project.output-collision]",
        "Point `output` at a folder that holds none of the project's inputs (the default `out` is safe).",
    ),
    "project.path-outside": Code(
        "A path the project names (a source, the codebook, the protocol, findings, narrative or the output folder) leaves the project folder, directly, as an absolute path or through a symlink.",
        "triangulate.yaml:14:9: error: 'output' is ../../shared/out, which is outside the project folder; keep every path inside the project, or give --allow-outside if you mean it [project.path-outside]",
        "Move the file into the project folder (or point at a copy there). If you trust the project and mean it, run the command with `--allow-outside`.",
    ),
    "protocol.not-found": Code(
        "The protocol id is not built in and no such protocol file exists.",
        "triangulate.yaml:2:11: error: no built-in protocol 'blebu2023' (built-in: blebu-2023, farmer-2006); or give a path ending in .yaml [protocol.not-found]",
        "Use a built-in protocol id, or a path to your own protocol file ending in `.yaml`.",
    ),
    "protocol.duplicate-id": Code(
        "Two dimensions or two categories of a protocol share one id.",
        "my-protocol.yaml:12:9: error: category id 'silence' is used twice [protocol.duplicate-id]",
        "Give each dimension, category and step its own id.",
    ),
    "protocol.unknown-category": Code(
        "A protocol rule names a category the protocol does not define.",
        "my-protocol.yaml:20:9: error: rules.none names 'dissonance', which is not a category of this protocol (categories: agreement, partial_agreement, silence); name one of them [protocol.unknown-category]",
        "Make every rule (`one_source`, `all`, `some`, `none`) name a category listed under `categories`.",
    ),
    "protocol.reserved-dimension": Code(
        "A dimension id clashes with a column name the tool reserves.",
        "my-protocol.yaml:9:9: error: dimension id 'code' is also a column the tool reads; rename the dimension [protocol.reserved-dimension]",
        "Rename the dimension: its id is used as a column name in source tables and worksheets.",
    ),
    "protocol.compare-key": Code(
        "A dimension key that does not fit how the dimension is compared (spec 5.1): tag keys on a `compare: prominence` dimension, band keys on a `compare: tags` one, or a prominence dimension without `bands`.",
        "my-protocol.yaml:14:7: error: dimension 'prominence' compares prominence, so 'opposites' does not apply (a prominence dimension has no tags: use 'bands') [protocol.compare-key]",
        "Use `opposites` and `prominence_bands` with `compare: tags`, and `bands` (required) and `band_labels` with `compare: prominence`.",
    ),
    "protocol.bad-bands": Code(
        "Prominence cut points (`bands`, `prominence_bands`) that are not strictly ascending numbers between 0 and 1.",
        "my-protocol.yaml:12:20: error: 'bands' of dimension 'prominence' must be strictly ascending: 0.2 follows 0.5 [protocol.bad-bands]",
        "Write the cut points as shares from low to high, each strictly between 0 and 1, e.g. `bands: [0.2, 0.5]`.",
    ),
    "protocol.bad-band-labels": Code(
        "`band_labels` does not have one label per band (cut points + 1).",
        "my-protocol.yaml:13:7: error: dimension 'prominence' has 2 cut points, so 'band_labels' needs 3 labels (it has 2) [protocol.bad-band-labels]",
        "Give one label per band: with cut points [0.2, 0.5] that is three labels, e.g. [low, medium, high].",
    ),
    "protocol.bad-opposites": Code(
        "An `opposites` entry is not a pair of two different tags.",
        "my-protocol.yaml:11:21: error: opposite pair 1 of dimension 'meaning' must be two different tags (got 'barrier', 'Barrier') [protocol.bad-opposites]",
        "Write each pair as two different tags that contradict each other, e.g. `opposites: [[barrier, facilitator]]`.",
    ),
    "codebook.duplicate-theme": Code(
        "Two themes share one id.",
        "codebook.yaml:31:9: error: theme id 'point_of_contact' is already used by theme #1; give each theme its own id [codebook.duplicate-theme]",
        "Rename one of the themes, or merge them.",
    ),
    "codebook.duplicate-group": Code(
        "Two groups share one id.",
        "codebook.yaml:5:9: error: group id 'relationship_care' is used twice [codebook.duplicate-group]",
        "Give each group its own id.",
    ),
    "codebook.unknown-group": Code(
        "A theme names a group that is not defined.",
        "codebook.yaml:12:12: error: theme 'point_of_contact' names group 'care', which is not defined; define it under 'groups' (defined: relationship_care) [codebook.unknown-group]",
        "Define the group under `groups`, or correct the theme's `group`.",
    ),
    "codebook.unknown-source": Code(
        "A theme's codes or not_collected name a source id that is not in the project.",
        "codebook.yaml:15:7: error: theme 'point_of_contact' sorts codes of source 'interview', which is not in the project (sources: interviews, network_survey) [codebook.unknown-source]",
        "Use the source ids from triangulate.yaml as the keys of `codes` and in `not_collected`.",
    ),
    "codebook.code-sorted-twice": Code(
        "A source code is sorted into more than one theme.",
        "codebook.yaml:14:9: error: code 'point-person' of source 'network_survey' is sorted into both 'point_of_contact' and 'networking_meetings'; a code may belong to one theme only [codebook.code-sorted-twice]",
        "Keep the code in one theme only (or split the code in the data).",
    ),
    "codebook.code-unused": Code(
        "A code in the codebook never appears in its source's data.",
        "codebook.yaml: warning: theme 'point_of_contact' lists code 'point-persn' for source 'interviews', but no row of data/interviews.csv uses it (a typo?) [codebook.code-unused]",
        "Correct the code's spelling to match the data, or remove it from the theme.",
    ),
    "codebook.duplicate-question": Code(
        "Two research questions share one id.",
        "codebook.yaml:40:9: error: research question id 'rq1' is used twice; give each question its own id [codebook.duplicate-question]",
        "Give each research question its own id.",
    ),
    "codebook.unknown-question": Code(
        "A theme's `questions` names a research question that the codebook does not define.",
        "codebook.yaml:18:17: error: theme 'point_of_contact' answers question 'rq3', which is not defined (questions: rq1, rq2); define it under 'questions' [codebook.unknown-question]",
        "Use the ids listed under the codebook's top-level `questions`, or add the question there.",
    ),
    "codebook.theme-without-question": Code(
        "The codebook has research questions, but a theme answers none of them.",
        "codebook.yaml:30:9: warning: theme 'trust' answers none of the research questions; list the ones it answers under its 'questions' [codebook.theme-without-question]",
        "Add the ids of the questions the theme answers under its `questions`, or leave it out deliberately (`--ignore codebook.theme-without-question`).",
    ),
    "findings.missing-column": Code(
        "The findings table lacks a required column.",
        "findings.csv: row 1, column 'finding': error: the findings table needs a 'finding' column (columns: theme, source, finding, exemplar) [findings.missing-column]",
        "Give findings.csv the columns `theme, source, finding` and optionally `exemplar` (`triangulate converge` writes a blank one).",
    ),
    "findings.unknown-theme": Code(
        "A findings row names a theme that is not in the codebook.",
        "findings.csv: row 4, column 'theme': error: theme 'point_of_contct' is not in the codebook [findings.unknown-theme]",
        "Correct the theme id to one of the codebook's theme ids.",
    ),
    "findings.unknown-source": Code(
        "A findings row names a source that is not in the project.",
        "findings.csv: row 4, column 'source': error: source 'survey' is not in the project (sources: interviews, network_survey) [findings.unknown-source]",
        "Correct the source id to one listed under `sources` in triangulate.yaml.",
    ),
    "findings.duplicate-row": Code(
        "Two findings rows for one theme and source.",
        "findings.csv: row 9, column 'theme': error: theme 'trust' and source 'interviews' already have a row (row 3); keep one [findings.duplicate-row]",
        "Merge the two rows into one finding.",
    ),
    "findings.bad-exemplar": Code(
        "A findings row's exemplar is not an excerpt (or, for a survey, a code) of that source in that theme.",
        "findings.csv: row 3, column 'exemplar': error: exemplar 'E99' is not an excerpt of source 'interviews' in theme 'trust' [findings.bad-exemplar]",
        "Give an `excerpt_id` coded into this theme in this source (for a survey source, one of the theme's codes), or leave `exemplar` empty.",
    ),
    "findings.theme-absent": Code(
        "A findings row is for a theme that the source does not have in its data.",
        "findings.csv: row 6, column 'theme': warning: theme 'trust' is not present in source 'network_survey', so this finding describes nothing the data shows [findings.theme-absent]",
        "Remove the row, or check the sorting (the theme's codes for that source) if the source should have the theme.",
    ),
    "findings.missing": Code(
        "With a findings file declared, a theme present in a source has no finding.",
        "findings.csv: warning: theme 'point_of_contact' is present in source 'interviews' but has no finding; summarise what the source says about it [findings.missing]",
        "Write one to three sentences in the `finding` column for that theme and source (use `--strict` in CI to require every finding).",
    ),
    "narrative.unknown-key": Code(
        "A key of narrative.yaml is neither a step of the protocol nor `themes` (or, under `themes`, not a theme id).",
        "narrative.yaml:4:1: error: 'feedbak' is not a step of protocol farmer-2006 (steps: sorting, ..., feedback) nor 'themes' [narrative.unknown-key]",
        "Use the protocol's step ids as keys, and theme ids under `themes:`; check the spelling.",
    ),
    "data.unsorted-code": Code(
        "A code appears in a source's data but is sorted into no theme.",
        "data/network_survey.csv: row 2, column 'code': warning: code 'funding' of source 'network_survey' is not sorted into any theme; add it to a theme's codes in the codebook [data.unsorted-code]",
        "Add the code to the `codes` of one theme in codebook.yaml; if leaving it out is deliberate, `--ignore data.unsorted-code`.",
    ),
    "data.unsupported-format": Code(
        "A source file has an extension the tool cannot read.",
        "data/interviews.docx: error: cannot read '.docx' files; use .csv, .tsv, .xlsx or .jsonl [data.unsupported-format]",
        "Export the table as CSV (UTF-8), TSV, XLSX or JSONL.",
    ),
    "data.empty": Code(
        "A source file has no header or no rows.",
        "data/interviews.csv: error: the file is empty; it needs a header row and data rows [data.empty]",
        "Export the table again with its header row and data.",
    ),
    "data.missing-column": Code(
        "A required column is missing from a source table.",
        "data/interviews.csv: row 1, column 'participant': error: a 'excerpts' source needs a column 'participant' (the header has: excerpt_id, code, text) [data.missing-column]",
        "Add the column, or rename the existing one to the name the format expects.",
    ),
    "data.duplicate-column": Code(
        "A table has two columns with the same name.",
        "data/interviews.csv: row 1, column 'code': error: column 'code' appears twice in the header; rename one [data.duplicate-column]",
        "Rename or remove one of the two columns.",
    ),
    "data.bad-encoding": Code(
        "A file is not valid UTF-8.",
        "data/interviews.csv:14: error: the file is not UTF-8 text; save it as 'CSV UTF-8' and try again [data.bad-encoding]",
        "Save the file as UTF-8 (in Excel: *CSV UTF-8 (Comma delimited)*).",
    ),
    "data.cp1252-encoding": Code(
        "A text table is not valid UTF-8: the characters that are not UTF-8 were read as Windows-1252 "
        "(Excel's 'CSV' encoding). The decision is per file: a file that is valid UTF-8 is always read "
        "as UTF-8, and in a UTF-8 file with a few Windows-1252 lines only those lines' odd characters "
        "are read as Windows-1252 (the message then names the first such line and how many more).",
        "data/interviews.csv:3: warning: data/interviews.csv is not UTF-8 (first non-UTF-8 character on line 3); it was read as Windows-1252, as Excel writes 'CSV' files. Check accented characters, or save it as 'CSV UTF-8' to silence this [data.cp1252-encoding]",
        "Save the file as *CSV UTF-8*; until then check that accented characters came out right.",
        quotes_data=True,
    ),
    "data.lone-surrogate": Code(
        "A text holds half of a character (a lone surrogate, usually a `\\ud83d` escape that lost the other half of an emoji); it is shown as U+FFFD (�).",
        "codebook.yaml:12:12: warning: 'themes[0].label' holds half of a character (a lone surrogate escape such as \\ud83d); it is read as � [data.lone-surrogate]",
        "Write the character itself (UTF-8), or give both halves of the escape (`\\ud83d\\ude00`).",
    ),
    "data.control-characters": Code(
        "A text holds control characters (an escape sequence, a bell, a carriage return): the tool shows them visibly (`␛[2J`) wherever it prints them, never raw.",
        "data/interviews.csv: row 7, column 'text': warning: the cell holds control characters (shown as ␛[2J); they are printed visibly, never sent to the terminal raw [data.control-characters]",
        "Remove the control characters from the cell (usually pasted from a terminal or a broken export).",
    ),
    "data.dialect": Code(
        "A note (severity info: it never fails a command, not even with `--strict`): a `.csv` file was "
        "read as semicolon- or tab-separated (the delimiter is the one of `,` `;` tab that the header row "
        "holds most of), or as UTF-16 text (it starts with a UTF-16 byte-order mark, as Excel's "
        "'Unicode Text' does).",
        "data/interviews.csv: info: data/interviews.csv was read as semicolon-separated text (as Excel saves 'CSV' where the list separator is ';'); nothing to fix [data.dialect]",
        "Nothing to fix. To silence it, save the file as *CSV UTF-8 (Comma delimited)*, or `--ignore data.dialect`.",
        severity="info",
    ),
    "data.malformed": Code(
        "A table cannot be parsed (bad quoting, NUL bytes, a bad workbook).",
        "data/survey.xlsx: error: not a readable .xlsx workbook; open it in Excel and save it again as .xlsx, or export CSV [data.malformed]",
        "Export the table again (CSV UTF-8 or a plain .xlsx); binary files, NUL bytes and broken workbooks cannot be read.",
    ),
    "data.too-large": Code(
        "A file is too large to read safely (a huge cell, a workbook that expands enormously).",
        "data/survey.xlsx: row 1220: error: the sheet spans more than 20,000,000 cells (row 1220 and beyond); refusing to read further (delete stray cells far from the table, or export the sheet as CSV) [data.too-large]",
        "Export just the sheet you need as CSV; split very long cells.",
    ),
    "data.ragged-row": Code(
        "A row has more cells than the header.",
        "data/interviews.csv: row 7: error: row has 6 cells but the header has 5 columns; check for an unquoted comma in a cell [data.ragged-row]",
        "Quote cells that contain the delimiter, or give the extra cells a header.",
    ),
    "data.missing-value": Code(
        "A required cell is empty.",
        "data/interviews.csv: row 4, column 'participant': error: 'participant' is empty; every coding needs one [data.missing-value]",
        "Fill in the cell. (For a `survey_responses` column with no answers at all this is a warning: the code is left out.)",
        severity="error or warning",
    ),
    "data.empty-text": Code(
        "An excerpt has no text.",
        "data/interviews.csv: row 9, column 'text': warning: 2 coding(s) have no excerpt text (first shown here); reports will show them as empty [data.empty-text]",
        "Paste the excerpt's text into the `text` column.",
    ),
    "data.not-a-number": Code(
        "A numeric cell does not hold a number of the right kind.",
        "data/survey.csv: row 3, column 'respondents': error: 'respondents' must be a whole number, not 'about 40' [data.not-a-number]",
        "Write a plain number (no words; `%` is allowed in `percent`).",
    ),
    "data.respondents-too-small": Code(
        "A survey row has fewer than one respondent.",
        "data/survey.csv: row 3, column 'respondents': error: 'respondents' must be at least 1 (it is 0) [data.respondents-too-small]",
        "Give the number of people who answered the item (at least 1), or drop the row.",
    ),
    "data.endorsed-exceeds-respondents": Code(
        "A survey row has more endorsements than respondents.",
        "data/survey.csv: row 3, column 'endorsed': error: 'endorsed' (45) is more than 'respondents' (40); check both numbers [data.endorsed-exceeds-respondents]",
        "Correct one of the two numbers.",
    ),
    "data.negative-endorsed": Code(
        "A survey row has a negative endorsement count.",
        "data/survey.csv: row 3, column 'endorsed': error: 'endorsed' cannot be negative (-2) [data.negative-endorsed]",
        "Give the count of respondents who endorsed the item (0 or more).",
    ),
    "data.percent-out-of-range": Code(
        "A survey percentage is below 0 or above 100.",
        "data/survey.csv: row 3, column 'percent': error: 'percent' must be from 0 to 100 (it is 130) [data.percent-out-of-range]",
        "Give a percentage from 0 to 100 (not a proportion above 1, not a count).",
    ),
    "data.endorsed-and-percent": Code(
        "A survey row gives both endorsed and percent, and they differ.",
        "data/survey.csv: row 3, column 'percent': error: 'endorsed' 10/40 is 25.0%, but 'percent' says 52; keep one of them [data.endorsed-and-percent]",
        "Keep the count or the percentage, or make them agree.",
    ),
    "data.no-share": Code(
        "A survey row gives neither endorsed nor percent.",
        "data/survey.csv: row 3, column 'endorsed': error: give 'endorsed' (a count) or 'percent' for this survey code [data.no-share]",
        "Fill in `endorsed` or `percent` for the row.",
    ),
    "data.duplicate-code": Code(
        "A survey code appears on more than one row.",
        "data/survey.csv: row 8, column 'code': error: code 'funding' is already on row 3; give each survey code one row [data.duplicate-code]",
        "Keep one row per survey code.",
    ),
    "data.bad-json": Code(
        "A JSONL line is not a JSON object.",
        "data/interviews.jsonl:12: error: line is not valid JSON (Expecting ',' delimiter); make it one JSON object or remove it [data.bad-json]",
        "Make each line one JSON object (`{...}`), or remove the line.",
    ),
    "data.needs-extra": Code(
        "Reading a file needs an optional extra that is not installed (pyreadstat for .sav/.dta: pip install pyreadstat, in the environment that runs triangulate).",
        "data/partner_survey.sav: error: reading .sav files needs pyreadstat, which is not installed: run `pip install pyreadstat` in the environment that runs triangulate (or `pip install '.[spss]'` in a triangulate checkout), or export the data as CSV [data.needs-extra]",
        "Run `pip install pyreadstat` with the same Python (or `pip install '.[spss]'` from a triangulate checkout; not `triangulate[spss]`: that PyPI name is an unrelated project), or export the data as CSV.",
    ),
    "data.endorse-unmatched": Code(
        "An 'endorse' value of a survey_responses code matches no answer and no value label of its column (a typo?).",
        "data/partner_survey.csv: row 1, column 'Q7_3': warning: survey code 'follow-up': endorse value 'Agree ' matches no answer in column 'Q7_3' (answers include: 1, 2, 3, 4, 5); check the spelling [data.endorse-unmatched]",
        "Correct the `endorse` values of the code in triangulate.yaml to answers that occur in the column.",
    ),
    "data.endorse-default": Code(
        "A column with many different answers is read with the default endorsement rule (1/yes/true/checked); give 'endorse:'.",
        "data/partner_survey.csv: row 1, column 'Q7_3': warning: survey code 'follow-up': column 'Q7_3' has 5 different answers, but without 'endorse:' only 1, yes, true and checked count; say which answers endorse it, e.g. {column: Q7_3, endorse: [4, 5]} [data.endorse-default]",
        "Give `endorse:` for the code: the answers that count as endorsing it.",
    ),
    "refi.malformed": Code(
        "A REFI-QDA file (.qdpx or .qdc) cannot be read: not a zip, no project XML, or XML that does not parse.",
        "data/project.qdpx: error: not a .qdpx: the file is not a zip archive; export the project again as REFI-QDA (.qdpx) [refi.malformed]",
        "Export the project (or codebook) again from the QDA software as REFI-QDA.",
    ),
    "refi.too-large": Code(
        "A REFI-QDA file exceeds the size or entry-count limits and is not read.",
        "data/project.qdpx: error: the project XML project.qde expands to more than 256 MB; it is not read [refi.too-large]",
        "Export a smaller project (fewer sources), or export the codings as CSV.",
        quotes_data=True,
    ),
    "refi.unsafe-xml": Code(
        "A REFI-QDA XML file declares a DTD or entities; it is refused (exports never need them).",
        "data/project.qdpx!project.qde: error: the XML declares a DTD or entities, which REFI-QDA files never need; it is not read (export it again from your QDA software) [refi.unsafe-xml]",
        "Export the file again from the QDA software; do not edit DTDs or entities into it.",
    ),
    "qdpx.missing-text": Code(
        "A text source's plain text is not in the .qdpx (or cannot be decoded); its codings are skipped.",
        "data/project.qdpx: warning: source 'Interview 3' names internal://3f2a7c1e-0b1d-4c59-9a43-5d7e0c2b8f11.txt, which is not in the archive; its 12 coding(s) are skipped [qdpx.missing-text]",
        "Export the project again with its sources included (plain-text sources, or documents converted to text).",
        quotes_data=True,
    ),
    "qdpx.position-mismatch": Code(
        "A coded selection does not land on sensible text (outside the text, empty, or splitting a word, character or line break).",
        "data/project.qdpx: warning: source 'Interview 3': 4 coded selection(s) do not land on sensible text when read as Unicode code points; the first (9F1C..., 120-131) splits a word. Check the excerpts; if they are shifted, set 'positions:' for this source [qdpx.position-mismatch]",
        "Check a few excerpts in the report; if they are shifted, set `positions: utf16` (or `codepoints`) on the source.",
        quotes_data=True,
    ),
    "qdpx.long-excerpt": Code(
        "A coded selection is longer than the tool keeps as evidence text (200,000 characters, or 2,000 once the archive's excerpts reach 64 Mi characters); its text is shortened, its counts are not.",
        "data/project.qdpx: warning: 3 excerpt(s) are longer than the tool keeps (200,000 characters each, 67,108,864 in all) and were shortened (first: selection 9f1c0c1e-... of source 'Interview 3', 412,880 characters). Counts are unaffected; only the evidence text shown in the report is cut [qdpx.long-excerpt]",
        "Nothing to do when the long selection codes a whole document on purpose; otherwise check the selection in your QDA software.",
    ),
    "qdpx.position-unit": Code(
        "The .qdpx positions read differently as code points and as UTF-16 units and neither fits better; say which with 'positions:'.",
        "data/project.qdpx: warning: the selections fit equally well read as Unicode code points and as UTF-16 units; they were read as Unicode code points. Check a few excerpts, and set 'positions: codepoints' or 'positions: utf16' for this source to say which [qdpx.position-unit]",
        "Set `positions: codepoints` or `positions: utf16` on the source.",
    ),
    "qdpx.case-coding": Code(
        "A coding points at a case rather than a code (NVivo does this); it is skipped.",
        "data/project.qdpx: warning: 3 coding(s) point at a case rather than a code (first: case 'P07'); they are skipped [qdpx.case-coding]",
        "Nothing to do if cases are only used to group sources; code the text itself to include it.",
        quotes_data=True,
    ),
    "qdpx.unknown-code": Code(
        "A coding points at a code GUID the project does not define; it is skipped.",
        "data/project.qdpx: warning: 2 coding(s) point at a code the project does not define (first: 5A7E...); they are skipped [qdpx.unknown-code]",
        "Export the project again; if it persists, the QDA software wrote codings of a deleted code.",
    ),
    "qdpx.skipped-selection": Code(
        "Codings of non-text selections (PDF regions, pictures, audio, video, transcripts, whole sources) are skipped.",
        "data/project.qdpx: warning: codings without character positions are skipped (4 of PDF regions, 1 of pictures); only plain-text selections become excerpts [qdpx.skipped-selection]",
        "Code the text of those sources (or their transcripts) if they should count as excerpts.",
    ),
    "qdpx.unknown-coder": Code(
        "A source's 'coder' names no user of the .qdpx.",
        "data/project.qdpx: error: coder 'ana' is not a user of this project (users: 'Ana B.', 'Ben C.'); give a user's name or GUID [qdpx.unknown-coder]",
        "Give `coder:` as a user name or GUID that the message lists.",
    ),
    "qdpx.no-codings": Code(
        "A .qdpx holds no usable codings of text (after the 'coder' filter).",
        "data/project.qdpx: warning: the project holds no codings of text selections [qdpx.no-codings]",
        "Check that the right project was exported and, with `coder:`, that the coder did code text.",
    ),
    "qdpx.duplicate-code-name": Code(
        "Codes in different places of a .qdpx code tree share a name and were counted as one; list them by path.",
        "data/project.qdpx: warning: code 'trust' of source 'interviews' is the name of 2 codes in the .qdpx (Barriers/trust, Facilitators/trust); their codings count as one code. To keep them apart, list them in the codebook by path [qdpx.duplicate-code-name]",
        "List the codes in the codebook by their path (`Barriers/trust`) to keep them apart.",
    ),
    "qdpx.ambiguous-case": Code(
        "A .qdpx source belongs to more than one case; the first case names its participant.",
        "data/project.qdpx: warning: source 'Focus group 2' belongs to 3 cases (P1, P2, P3); 5 selection(s) not assigned to a case are counted as participant 'P1' [qdpx.ambiguous-case]",
        "Assign each selection to one case in the QDA software, or accept the first case as the participant.",
        quotes_data=True,
    ),
    "review.missing-column": Code(
        "A worksheet lacks a required column.",
        "reviews/bb.csv: row 1, column 'source_b': error: the worksheet needs a 'source_b' column (columns: theme, source_a, source_b, substance, mechanism, category, rationale) [review.missing-column]",
        "Restore the column; `triangulate converge` writes a blank worksheet with every column (after you move the broken one away).",
    ),
    "review.unknown-theme": Code(
        "A worksheet row names a theme that is not in the codebook.",
        "reviews/bb.csv: row 4, column 'theme': error: theme 'point_contact' is not in the codebook [review.unknown-theme]",
        "Use the theme ids of codebook.yaml (copy them from a blank worksheet).",
    ),
    "review.unknown-source": Code(
        "A worksheet row names a source id that is not in the project.",
        "reviews/bb.csv: row 4, column 'source_b': error: source 'survey' is not in the project (sources: interviews, network_survey) [review.unknown-source]",
        "Use the source ids of triangulate.yaml.",
    ),
    "review.unknown-category": Code(
        "A worksheet row names a category that is not in the protocol.",
        "reviews/bb.csv: row 4, column 'category': error: category 'agree' is not in protocol blebu-2023 (categories: full_agreement, partial_agreement, disagreement, silence) [review.unknown-category]",
        "Use one of the protocol's category ids, or leave the category empty and judge every dimension.",
    ),
    "review.bad-judgement": Code(
        "A dimension cell holds something other than yes, no or empty.",
        "reviews/bb.csv: row 4, column 'substance': error: 'substance' must be yes, no or empty, not 'maybe' [review.bad-judgement]",
        "Write `yes`, `no`, or leave the cell empty.",
    ),
    "review.rule-conflict": Code(
        "A worksheet row's category contradicts its dimension judgements.",
        "reviews/bb.csv: row 4, column 'category': error: category 'full_agreement' contradicts the judgements (substance=yes, mechanism=no), which give partial_agreement by the protocol's rule; correct one of them or leave the category empty [review.rule-conflict]",
        "Correct the category or the judgements, or leave the category empty so the rule gives it.",
    ),
    "review.duplicate-unit": Code(
        "A worksheet has two rows for one unit.",
        "reviews/bb.csv: row 9, column 'theme': error: this unit (point_of_contact, interviews, network_survey) already has a row (3); keep one [review.duplicate-unit]",
        "Keep one row per theme and pair of sources.",
    ),
    "review.not-a-unit": Code(
        "A worksheet row names a theme and pair that is not a unit.",
        "reviews/bb.csv: row 6, column 'theme': warning: (trust, interviews, network_survey) is not a unit: neither source has this theme in the data; the row is ignored [review.not-a-unit]",
        "Remove the row, or check the sorting: the theme is in neither source's data.",
    ),
    "review.judgement-ignored": Code(
        "Dimension judgements on a one-source unit are ignored.",
        "reviews/bb.csv: row 5, column 'substance': warning: theme 'trust' is in one source only, so dimension judgements do not apply and are ignored [review.judgement-ignored]",
        "Clear the dimension cells of the row; the category of a one-source unit is the protocol's silence category.",
    ),
    "review.incomplete": Code(
        "A worksheet row judges some dimensions but not all and gives no category.",
        "reviews/bb.csv: row 5, column 'category': warning: only 1 of 2 dimensions are judged and no category is given; the unit counts as not coded [review.incomplete]",
        "Judge every dimension, or write the category.",
    ),
    "review.unknown-reviewer": Code(
        "A worksheet file is not named after a configured reviewer.",
        "reviews/alice.csv: warning: worksheet alice.csv is not read: 'alice' is not listed under 'reviewers' in the project file [review.unknown-reviewer]",
        "Add the reviewer id to `reviewers` in triangulate.yaml, or rename the worksheet after a listed reviewer.",
    ),
    "decisions.bad-line": Code(
        "A decisions line is not a valid JSON decision.",
        "decisions.jsonl:4: error: this decision lacks 'category' [decisions.bad-line]",
        "Correct the line by hand (each line is one JSON object with theme, source_a, source_b and category).",
    ),
    "decisions.truncated-line": Code(
        "The last decisions line was cut short (a crash while writing); it is ignored.",
        "decisions.jsonl:12: warning: this line was cut short (the program stopped while writing it) and is ignored; every other decision is kept [decisions.truncated-line]",
        "Nothing is lost but that one decision: run `triangulate review` again for the unit, or delete the broken line.",
    ),
    "decisions.unknown-category": Code(
        "A decision names a category that is not in the protocol.",
        "decisions.jsonl:3: error: category 'agree' is not in protocol blebu-2023 (categories: full_agreement, partial_agreement, disagreement, silence); add a corrected decision below it [decisions.unknown-category]",
        "Append a corrected decision for the unit (a later line supersedes an earlier one).",
    ),
    "decisions.not-a-unit": Code(
        "A decision is for a unit that no longer exists.",
        "decisions.jsonl:7: warning: decision for (trust, interviews, network_survey) is ignored: that unit no longer exists [decisions.not-a-unit]",
        "Nothing to do unless the unit should exist: then check the codebook's sorting and the data.",
    ),
}


# Read-only views of the catalogue, by the names older code and tests use.
CODES: dict[str, str] = {code: entry.meaning for code, entry in CATALOGUE.items()}
CODE_DOCS: dict[str, Code] = CATALOGUE


def error(
    code: str, message: str, location: Location | None = None, data: tuple[str, ...] = ()
) -> Finding:
    assert code in CATALOGUE, code
    return Finding(code, Severity.ERROR, message, location or Location(), data)


def warning(
    code: str, message: str, location: Location | None = None, data: tuple[str, ...] = ()
) -> Finding:
    assert code in CATALOGUE, code
    return Finding(code, Severity.WARNING, message, location or Location(), data)


REDACTED = "[redacted]"


def redacted(f: Finding) -> Finding:
    """``f`` as a redacting renderer shows it: the message without the data it quotes, and no
    location ``field`` for codes that quote data (a .qdpx finding's field is a source's name)."""
    import dataclasses

    location = f.location
    entry = CATALOGUE.get(f.code)
    if entry is not None and entry.quotes_data and location.field is not None:
        location = dataclasses.replace(location, field=None)
    return dataclasses.replace(f, message=redacted_message(f), location=location, data=())


def redacted_message(f: Finding) -> str:
    """``f.message`` without the data it quotes (for ``--redact`` and CI logs).

    Each value the finding marks in ``data`` is replaced by ``[redacted]``; a finding of a code
    whose messages quote data but that marks none gets its code's meaning instead.
    """
    message = f.message
    values = [v for v in f.data if v.strip()]
    if values:
        for v in sorted(values, key=len, reverse=True):
            message = message.replace(repr(v)[1:-1], REDACTED).replace(v, REDACTED)
        return message
    entry = CATALOGUE.get(f.code)
    if entry is not None and entry.quotes_data:
        return f"{entry.meaning.rstrip('.')} (details left out: they quote the data)"
    return message


def info(code: str, message: str, location: Location | None = None) -> Finding:
    """A note on how an input was read: shown, but never an error or a warning (not even --strict)."""
    assert code in CATALOGUE, code
    return Finding(code, Severity.INFO, message, location or Location())


class TriangulateError(Exception):
    """A user-fixable problem: the inputs have errors (exit 1) or the tool could not run (exit 2)."""

    def __init__(self, message: str, findings: list[Finding] | None = None, exit_code: int = 1):
        super().__init__(message)
        self.message = message
        self.findings = list(findings or [])
        self.exit_code = exit_code


class UsageError(TriangulateError):
    """Bad usage or a missing/unreadable file: exit 2."""

    def __init__(self, message: str, findings: list[Finding] | None = None):
        super().__init__(message, findings, exit_code=2)


def exit_code_for(findings: list[Finding], strict: bool = False) -> int:
    """0 when clean, 2 when a file could not be read at all, 1 for any other error."""
    if any(f.is_error and f.code in COULD_NOT_RUN for f in findings):
        return 2
    if any(f.is_error for f in findings):
        return 1
    if strict and any(f.severity is not Severity.INFO for f in findings):
        return 1
    return 0
