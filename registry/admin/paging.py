"""Pages of a long list for the admin UI (fetched by the same function as the API's pages)."""

from dataclasses import dataclass

from registry.paging import fetch_page

PAGE_SIZE = 50


@dataclass
class Page:
    items: list
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_number(raw) -> int:
    """A page number from the query string; anything odd means the first page."""
    try:
        return max(1, min(int(raw), 100_000))
    except (TypeError, ValueError):
        return 1


def page_of(session, stmt, number: int, size: int = PAGE_SIZE) -> Page:
    """One page of a select's rows, with the total count."""
    items, total = fetch_page(session, stmt, offset=(number - 1) * size, limit=size)
    return Page(items=items, number=number, size=size, total=total)
