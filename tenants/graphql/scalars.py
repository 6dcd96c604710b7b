"""GraphQL scalars of every app, registered once in ``config.graphql`` (``SCALARS``)."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

BigInt = NewType("BigInt", int)

SCALARS: dict[object, ScalarDefinition] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        description="An integer that may exceed 32 bits (counts of followers, views, reach).",
        serialize=int,
        parse_value=int,
    )
}
