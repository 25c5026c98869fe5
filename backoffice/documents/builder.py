"""The shipped templates as readable text: `seeds/documents/<code>.md` → `.docx`.

A coordinator edits the `.docx` in Word or LibreOffice; a developer edits the text file,
whose lines read as the document does:

- `# Titre` and `## Section`: a title and a section heading;
- a paragraph is one or more lines, ended by an empty line; `**gras**` is bold;
- `| a | b |` lines make a table (the first line is the header, in bold; a `|---|` line
  is skipped); a row `| {%tr for x in rows %} |` repeats the next row (docxtpl);
- a line `{%p if … %}` / `{%p endif %}` / `{%p for … %}` stands alone (docxtpl);
- `===` on its own line starts a new page.

Placeholders are Jinja, `{{ person.last_name }}`, filled by render.py.
"""
import re
from io import BytesIO
from pathlib import Path

from docx import Document
from docx.enum.text import WD_BREAK
from docx.shared import Pt

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "seeds" / "documents"
#: Further folders searched after TEMPLATES_DIR (tests and the browser journeys add theirs).
EXTRA_DIRS: list[Path] = []
_BOLD = re.compile(r"\*\*(.+?)\*\*")
#: source file → (its modification time, the .docx built from it)
_BUILT: dict[Path, tuple[int, bytes]] = {}


def shipped_template(code: str) -> bytes:
    """The `.docx` of a shipped template, built from `seeds/documents/<code>.md` (built
    once, again when the file changes)."""
    for folder in (TEMPLATES_DIR, *EXTRA_DIRS):
        source = folder / f"{code}.md"
        if source.exists():
            stamp = source.stat().st_mtime_ns
            kept = _BUILT.get(source)
            if kept is None or kept[0] != stamp:
                kept = _BUILT[source] = (stamp, build_docx(source.read_text(encoding="utf-8")))
            return kept[1]
    raise FileNotFoundError(f"seeds/documents/{code}.md")


def build_docx(text: str) -> bytes:
    """Turn the text of a template into a `.docx` (see the module's docstring)."""
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(10.5)
    table_rows: list[list[str]] = []
    paragraph: list[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            _add_runs(document.add_paragraph(), " ".join(paragraph))
            paragraph.clear()

    def flush_table() -> None:
        if table_rows:
            _add_table(document, table_rows)
            table_rows.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("|"):
            flush_paragraph()
            cells = _cells(line)
            if not all(re.fullmatch(r":?-+:?", cell) for cell in cells):
                table_rows.append(cells)
            continue
        flush_table()
        if not line:
            flush_paragraph()
        elif line == "===":
            flush_paragraph()
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        elif line.startswith("## "):
            flush_paragraph()
            document.add_heading(line[3:], level=2)
        elif line.startswith("# "):
            flush_paragraph()
            document.add_heading(line[2:], level=1)
        elif line.startswith("{%p"):
            flush_paragraph()
            document.add_paragraph(line)
        else:
            paragraph.append(line)
    flush_paragraph()
    flush_table()
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def _cells(line: str) -> list[str]:
    """The cells of a `| a | b |` line; a `|` inside `{{ … }}` or `{% … %}` is a filter."""
    cells, current, depth = [], "", 0
    inner = line.strip().removeprefix("|").removesuffix("|")
    for char in inner:
        if char == "|" and depth == 0:
            cells.append(current.strip())
            current = ""
            continue
        current += char
        if current.endswith(("{{", "{%")):
            depth += 1
        elif current.endswith(("}}", "%}")):
            depth -= 1
    cells.append(current.strip())
    return cells


def _add_runs(paragraph, text: str) -> None:
    """Write text into a paragraph, `**…**` in bold."""
    for index, part in enumerate(_BOLD.split(text)):
        if part:
            paragraph.add_run(part).bold = index % 2 == 1


def _add_table(document, rows: list[list[str]]) -> None:
    width = max(len(row) for row in rows)
    table = document.add_table(rows=0, cols=width)
    table.style = "Table Grid"
    for row_index, cells in enumerate(rows):
        row = table.add_row().cells
        for index, text in enumerate(cells):
            paragraph = row[index].paragraphs[0]
            _add_runs(paragraph, f"**{text}**" if row_index == 0 and text and "{%" not in text
                      else text)
