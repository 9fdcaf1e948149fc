"""OAI-PMH 2.0: the provider at ``/oai`` and the record list it serves.

``records`` (the persistent list at ``root.oai``), ``tracking`` (keeps it in step with
items), ``sets`` (institutions and collections as sets), ``protocol`` (request parsing),
``listing`` (pages by a stable key), ``tokens`` (signed resumption tokens), ``provider``
(the six verbs). The view is ``heritage.views.oai``.
"""

from __future__ import annotations

from heritage.oai.sets import oai_set_spec, oai_set_url

__all__ = ["oai_set_spec", "oai_set_url"]
