"""Text a spreadsheet would run as a formula: the quote the CSV export adds, the import removes.

The export puts ``'`` before text that starts with a formula character, after any quotes it
already has, so the import can take exactly one quote off again: every text survives the trip.
"""

# spreadsheets run cells starting with these as formulas (tab and CR included: OWASP CSV injection)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _runs_as_formula(text: str) -> bool:
    return text.lstrip("'").startswith(FORMULA_PREFIXES)


def quote_formula(text: str) -> str:
    """The text behind a quote if a spreadsheet would run it (or its quoted form) as a formula."""
    return "'" + text if _runs_as_formula(text) else text


def unquote_formula(cell: str) -> str:
    """The text ``quote_formula`` was given, from the cell it made."""
    return cell[1:] if cell.startswith("'") and _runs_as_formula(cell) else cell
