"""A one-page PDF that says plainly it is a placeholder, written by hand (no WeasyPrint: microseconds, not the half
second a real document takes). It names the patient of the row it is stored in and nobody else."""

from __future__ import annotations

TEMPLATE_VERSION = "synthetic"  # what plan_documents.template_version says of a placeholder (real ones: "1.4" ...)


def _escaped(text: str) -> str:
    plain = text.encode("latin-1", "replace").decode("latin-1")
    return plain.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def placeholder_pdf(title: str, lines: list[str]) -> bytes:
    """A valid PDF 1.4 page (Helvetica, A4) with `title` in large type and `lines` under it."""
    text = [f"BT /F1 16 Tf 56 780 Td ({_escaped(title)}) Tj /F1 11 Tf"]
    text += [f"0 -{28 if number == 0 else 16} Td ({_escaped(line)}) Tj" for number, line in enumerate(lines)]
    stream = "\n".join([*text, "ET"]).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Title (" + _escaped(title).encode("latin-1") + b") /Producer (Taper synthetic data) >>",
    ]
    document = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(document))
        document += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    table = len(document)
    document += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    document += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    document += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1,
                                                                                            table)
    return bytes(document)
