"""Render once, stamp many: layout classes measured once, patient values drawn per record."""
