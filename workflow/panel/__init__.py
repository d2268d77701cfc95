"""The committee: the expert pool, forming the committee by a recorded draw, conflicts of interest,
pre-review opinions and the defence, the sitting with its agenda and ballot sheets, the encrypted secret ballot
and the hash-chained records of all of it.

May import: :mod:`workflow.engine` (every state change goes through ``fire``), :mod:`workflow.pipeline`,
:mod:`workflow.access`, :mod:`workflow.time`, :mod:`workflow.records`, :mod:`workflow.models`.
"""
