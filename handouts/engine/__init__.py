"""The rendering pipeline, one stage per module: request -> context -> HTML -> PDF -> write.

request (what to render, the patient fields and their parsing), clinic (config),
context (the Jinja context), render (Jinja + WeasyPrint), fetcher (what WeasyPrint may
load), fonts (one registry for WeasyPrint and ReportLab), output (file names, atomic
writes), formats (dates and times), pdfcheck (checks on finished PDFs).
"""
