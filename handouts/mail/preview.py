"""Fold previews: the first letters as PNG with the envelope windows drawn on."""

from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path

from handouts.engine.output import write_atomic
from handouts.mail.preflight import zone
from handouts.model.clinic import Mail


def write_previews(
    letter_paths: list[Path], mail: Mail, out_dir: Path, count: int = 3
) -> list[Path]:
    """PNGs of the first page of the first letters with the window zones drawn on them."""
    from PIL import Image, ImageDraw

    written = []
    dpi = 72
    for index, path in enumerate(letter_paths[:count], start=1):
        with tempfile.TemporaryDirectory() as tmp:
            stem = Path(tmp) / "page"
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    str(dpi),
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-singlefile",
                    str(path),
                    str(stem),
                ],
                capture_output=True,
                check=True,
            )
            image = Image.open(stem.with_suffix(".png")).convert("RGB")
        draw = ImageDraw.Draw(image)
        for window, color in ((mail.return_window, "#1f77b4"), (mail.recipient_window, "#d62728")):
            draw.rectangle(zone(window), outline=color, width=2)
            x0, top, x1, bottom = zone(window, mail.safety_margin)
            draw.rectangle((x0, top, x1, bottom), outline=color, width=1)
        for fold in (11 / 3, 22 / 3):
            draw.line((0, fold * dpi, 8.5 * dpi, fold * dpi), fill="#999999", width=1)
        target = out_dir / f"preview-{index}.png"
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        write_atomic(target, buffer.getvalue())
        written.append(target)
    return written
