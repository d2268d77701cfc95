"""Pipelines as data: the schema and loader of a definition, the shared base chain it extends, the catalogue
of stored versions, the stages and the inboxes that screens read state meanings from.

* :mod:`.schema` — the pipeline model, its validation and the graph checks;
* :mod:`.bases` — ``extends:``: a pipeline resolved against a shared base chain;
* :mod:`.catalog` — which versions exist, and the parsed definition of any (id, version);
* :mod:`.stages`, :mod:`.inboxes` — ``definitions/stages.yaml`` and ``definitions/inboxes.yaml``;
* :mod:`.yamlsource` — YAML loading that remembers the line of every value (for error messages).

May import: :mod:`workflow.models`, :mod:`workflow.db`, :mod:`workflow.errors`, the hook registry of
:mod:`workflow.engine` (names only). A new pipeline is a YAML file in ``definitions/pipelines/``.
"""
