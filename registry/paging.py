"""One page of a select and the total count: the REST API and the admin UI both page this way."""

from sqlalchemy import func, select


def fetch_page(session, stmt, *, offset: int, limit: int, scalars: bool = True):
    """The rows of ``stmt`` from ``offset`` (at most ``limit``) and the total row count."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    if offset >= total:
        # past the last page (the database cannot even take an offset this large)
        return [], total
    page_stmt = stmt.offset(offset).limit(limit)
    return list(session.scalars(page_stmt) if scalars else session.execute(page_stmt)), total
