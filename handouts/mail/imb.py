"""USPS Intelligent Mail barcode: the 65 bar states and their geometry, defined once.

ReportLab's encoder gives the bar states (A ascender, D descender, F full, T tracker);
`bar_rects` and `bar_boxes` turn them into rectangles that the full render draws as
inline SVG and the stamping fast path writes into the page content (stamp/splice.py),
so both print the same bars.
"""

from __future__ import annotations

from markupsafe import Markup

from handouts.mail.address import MailAddress
from handouts.model.clinic import Mail

POINTS_PER_INCH = 72
#: USPS-B-3200 bar geometry, in inches: about 22 bars per inch.
PITCH = 1 / 22
BAR_WIDTH = 0.02
FULL_HEIGHT = 0.145
TRACKER_HEIGHT = 0.05
HEIGHT_POINTS = FULL_HEIGHT * POINTS_PER_INCH
GAP_POINTS = 3.0  # between the last address line and the bars

_MIDDLE_TOP = (FULL_HEIGHT - TRACKER_HEIGHT) / 2
_MIDDLE_BOTTOM = (FULL_HEIGHT + TRACKER_HEIGHT) / 2
#: (top, bottom) of each bar state, in inches from the top of the barcode.
SPANS = {
    "F": (0.0, FULL_HEIGHT),
    "A": (0.0, _MIDDLE_BOTTOM),
    "D": (_MIDDLE_TOP, FULL_HEIGHT),
    "T": (_MIDDLE_TOP, _MIDDLE_BOTTOM),
}

Rect = tuple[float, float, float, float]  # x, top, width, height in inches


def imb_bars(mail: Mail, address: MailAddress, serial: int) -> str | None:
    """The 65 bar states; None without a Mailer ID (then no barcode is printed)."""
    if not mail.mailer_id:
        return None
    from reportlab.graphics.barcode.usps4s import USPS_4State  # only when mailing

    serial_digits = 15 - len(mail.mailer_id)  # 6-digit IDs get 9-digit serials, 9 get 6
    serial_text = f"{serial % 10**serial_digits:0{serial_digits}d}"
    tracking = f"00{mail.service_type}{mail.mailer_id}{serial_text}"
    return str(USPS_4State(value=tracking, routing=address.routing).barcodes)


def bar_rects(bars: str) -> list[Rect]:
    return [
        (i * PITCH, SPANS[b][0], BAR_WIDTH, SPANS[b][1] - SPANS[b][0]) for i, b in enumerate(bars)
    ]


def bar_boxes(bars: str, x: float, top: float) -> list[Rect]:
    """The bars as (x, y, width, height) in points from the page's bottom left, their
    top edge at `top`: what both stamping writers draw."""
    inch = POINTS_PER_INCH
    return [
        (x + bar_x * inch, top - (bar_top + height) * inch, width * inch, height * inch)
        for bar_x, bar_top, width, height in bar_rects(bars)
    ]


def width_inches(bars: str) -> float:
    return (len(bars) - 1) * PITCH + BAR_WIDTH


def imb_svg(bars: str | None) -> Markup | None:
    """The barcode as inline SVG, with no styles WeasyPrint would warn about."""
    if bars is None:
        return None
    rects = "".join(
        f'<rect x="{x:.4f}" y="{top:.4f}" width="{w}" height="{h:.4f}"/>'
        for x, top, w, h in bar_rects(bars)
    )
    width = width_inches(bars)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.4f}in" '
        f'height="{FULL_HEIGHT}in" viewBox="0 0 {width:.4f} {FULL_HEIGHT}">{rects}</svg>'
    )
