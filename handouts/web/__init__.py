"""The nurse-station web form: one app object (app.py), module-level views (views.py)."""
