"""The declarative base, constraint naming convention and shared column types."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from sqlalchemy import BigInteger, DateTime, MetaData, Numeric, String, func
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table; money columns are NUMERIC, timestamps timestamptz."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Money and prices are exact: NUMERIC without a fixed scale keeps every digit a provider sends.
Money = Annotated[Decimal, mapped_column(Numeric())]
MoneyOrNone = Annotated[Decimal | None, mapped_column(Numeric(), nullable=True)]
Tokens = Annotated[int, mapped_column(BigInteger, nullable=False, server_default="0")]
UtcTime = Annotated[datetime, mapped_column(DateTime(timezone=True), nullable=False)]
# Dimensions are '' rather than NULL so that natural keys stay unique without NULLS NOT DISTINCT.
Dim = Annotated[str, mapped_column(String, nullable=False, server_default="")]
CreatedAt = Annotated[datetime, mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())]
