"""The full render: request -> context -> HTML -> PDF.

context (the Jinja context), schedule and levels (values computed for the patient),
formats (CLDR dates and times), fetcher (what WeasyPrint may load), render (Jinja +
WeasyPrint, then the PDF repairs of handouts.pdf), output (file names, atomic writes).
"""
