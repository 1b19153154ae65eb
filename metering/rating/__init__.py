"""Rating: pricing policies, consolidation of samples into intervals, and the SQL that prices.

Entry points (docs/architecture.md)::

    metering.rating.consolidate.consolidate_day(config, day) -> int
    metering.rating.run.rate_month(config, month) -> RatingResult
    metering.rating.warehouse.build_warehouse(config) -> Path
"""
