"""The patient summary as a PDF (fpdf2), for the chart or a referral letter.

Printed with DejaVu Sans when the font is installed (Debian ``fonts-dejavu-core``),
so ≥, × and µ print as themselves; otherwise with the PDF core font Helvetica
and those characters spelled in ASCII (">=", "x", "u"), so the document still
prints on a machine without the font. The decision is also in the document's
Subject, so a mail client or a test can read it without parsing the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF

from natalizumab_cds.application.patient_summary import SummaryDocument
from natalizumab_cds.domain.findings import Finding
from natalizumab_cds.domain.timeline import quantity_text

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
ASCII = str.maketrans(
    {"≥": ">=", "≤": "<=", "×": "x", "µ": "u", "–": "-", "—": "-", "…": "...", "≈": "~", "⁹": "^9"}
)


class _Page:
    """An A4 page with one font family, a heading style and wrapped lines."""

    def __init__(self, fonts: Path | None, compress: bool) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.compress = compress
        self.pdf.set_auto_page_break(auto=True, margin=15)
        regular = fonts / "DejaVuSans.ttf" if fonts else None
        bold = fonts / "DejaVuSans-Bold.ttf" if fonts else None
        if regular and bold and regular.exists() and bold.exists():
            self.pdf.add_font("Body", "", str(regular))
            self.pdf.add_font("Body", "B", str(bold))
            self.family, self.unicode = "Body", True
        else:
            self.family, self.unicode = "Helvetica", False
        self.pdf.add_page()

    def text(self, value: str) -> str:
        if self.unicode:
            return value
        return value.translate(ASCII).encode("latin-1", "replace").decode("latin-1")

    def heading(self, value: str, size: int = 13) -> None:
        self.pdf.ln(2)
        self.pdf.set_font(self.family, "B", size)
        self.pdf.multi_cell(0, 7, self.text(value), new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font(self.family, "", 9)

    def line(self, value: str, bold: bool = False) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", 9)
        self.pdf.multi_cell(0, 4.6, self.text(value), new_x="LMARGIN", new_y="NEXT")

    def lines(self, values: Iterable[str], empty: str) -> None:
        written = False
        for value in values:
            self.line(value)
            written = True
        if not written:
            self.line(empty)


def _when(moment: datetime | None, tz: str) -> str:
    if moment is None:
        return "date not recorded"
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M ") + tz


def _finding(f: Finding) -> list[str]:
    head = f"{f.rule} ({f.effect.value}): {f.summary}"
    return [head, f"    basis: {f.basis}"] + [f"    suggests: {s}" for s in f.suggestions]


def render_summary_pdf(
    doc: SummaryDocument, *, fonts: Path | None = DEJAVU, compress: bool = True
) -> bytes:
    """The summary's PDF bytes (A4)."""
    page = _Page(fonts, compress)
    a, p, tz = doc.assessment, doc.patient, doc.tz_name
    decision = a.decision.value.upper()
    page.pdf.set_title(f"Patient summary {p.id}")
    page.pdf.set_subject(f"Decision: {decision}")
    page.pdf.set_creator("natalizumab-cds")
    page.heading("Natalizumab patient summary", 16)
    page.line(f"{p.name}   MRN {p.mrn or 'not recorded'}   born {p.birth_date or 'not recorded'}")
    page.line(f"Patient/{p.id}")
    page.heading(f"Decision: {decision}")
    page.line(f"Assessed at {_when(a.at, tz)} under {a.protocol_name} version {a.protocol_version}")
    page.heading("Findings")
    page.lines((text for f in a.findings for text in _finding(f)), "No rule fired.")
    page.heading("Monitoring schedule")
    page.lines(
        (
            f"{e.item.value}: last {e.last or 'never'}, next due {e.due} ({e.status.value})"
            for e in a.monitoring
        ),
        "No schedule.",
    )
    page.heading("Recent results")
    page.lines(
        (
            f"{_when(r.at, tz)}  {r.analyte.value} "
            + quantity_text(f"{r.comparator}{r.value:g}", r.unit)
            + (
                f"  (range {r.low:g}–{r.high:g})"
                if r.low is not None and r.high is not None
                else ""
            )
            for r in doc.results
        ),
        "No results on file.",
    )
    page.heading("Infusions and reactions")
    page.lines(
        (f"natalizumab infusion {_when(i.at, tz)} (completed)" for i in doc.infusions),
        "No completed infusion on file.",
    )
    page.lines(
        (f"REACTION {_when(r.at, tz)}: {r.reaction or 'reaction recorded'}" for r in doc.reactions),
        "No hypersensitivity reaction to natalizumab on file.",
    )
    for v in doc.visits:
        page.line(f"visit {v.visit.id} opened {_when(v.visit.opened_at, tz)}: {v.state.value}")
    page.pdf.ln(3)
    page.line(
        f"Generated {_when(doc.generated_at, tz)} by natalizumab-cds, protocol {a.protocol_version}"
    )
    page.line("Decision support: it never replaces clinical judgement.")
    return bytes(page.pdf.output())
