"""One page of a long list: the rows it shows and where it sits among the others, in two queries whatever the
length of the list (a count, and the page's own rows)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from taper.extensions import db

Item = TypeVar("Item")


@dataclass(frozen=True)
class Page(Generic[Item]):
    """Page `number` (from 1) of a list of `total` items, `per_page` to a page. A number past the last page is
    an empty page (a bookmark kept after the list shrank), not an error."""

    items: Sequence[Item]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return 1 < self.number <= self.pages

    @property
    def past_the_end(self) -> bool:
        """An empty page after the last one (the list offers a way back to its first page)."""
        return self.number > self.pages

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_shown(self) -> int:
        """The position in the whole list of the first item on this page (from 1)."""
        return (self.number - 1) * self.per_page + 1


def page_of(query: Select[Any], *, number: int, per_page: int,
            read: Callable[[Select[Any]], Sequence[Item]]) -> Page[Item]:
    """Page `number` of an ordered query: its total counted in the database, its rows read by `read` (`entities`,
    `rows`, or a function that turns rows into what the page shows)."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = read(query.limit(per_page).offset((number - 1) * per_page))
    return Page(items=items, number=number, per_page=per_page, total=total)


def entities(query: Select[Any]) -> Sequence[Any]:
    """The query's first column (its model objects, for a query of one model)."""
    return db.session.scalars(query).all()


def rows(query: Select[Any]) -> Sequence[Any]:
    """The query's rows, each with every column it selects."""
    return db.session.execute(query).all()
