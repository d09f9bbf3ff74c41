"""Patient handouts for vertebroplasty and kyphoplasty.

Where things are: engine/ (request -> context -> HTML -> PDF -> write), content/ (the
clinical text model), commands/ (what each command does), batch/, mail/, stamp/ (the
fast path), web/ (the nurse form); cli.py only parses and reports.
"""

from __future__ import annotations

__version__ = "0.1.0"
