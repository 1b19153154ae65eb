"""Is a month complete enough to invoice? Coverage of the collection, and the close's gate.

``coverage``: per site × source × hour, the collection instants expected against those in
the lake, with the failed and interrupted runs and outages behind a shortfall (dataset
``coverage``). ``gate``: the one check every path to a numbered document runs (``metering
close``, ``metering run close``, the scheduler's close): the month has ended (plus a grace),
every night is consolidated, nothing is unrated, coverage meets the threshold; the tenants
each problem touches are held.
"""
