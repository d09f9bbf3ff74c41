"""PDFs after WeasyPrint: reading (structure, tounicode, glyphs, shown), repairing for PDF/UA
(repair, subset), checking (rules, check), joining (merge) and streaming a large file
out page by page (stream).
"""
