"""Letters for #10 double-window envelopes: addresses, cover letter, IMb, preflight, mailing.pdf."""
