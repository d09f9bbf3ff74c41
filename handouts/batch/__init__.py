"""`make-handouts batch`: records in, one file per record out, manifest, errors and resume."""
