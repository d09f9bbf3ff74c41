"""Fonts: the bundled faces (registry), the file behind a font WeasyPrint embedded
(files), and HarfBuzz shaping and subsetting through ctypes (harfbuzz). Nothing here
reads or writes a PDF.
"""
