"""Searching the catalog: text folding, EDTF date facets, queries with facets and paging.

:mod:`heritage.search.text` and :mod:`heritage.search.dates` are plain helpers;
:mod:`heritage.search.query` runs a search over ``root.catalog`` (:mod:`heritage.catalog`).
"""
