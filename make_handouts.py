"""Thin entry point: `python make_handouts.py ...` runs the make-handouts command."""

from handouts.cli import main

if __name__ == "__main__":
    main()
