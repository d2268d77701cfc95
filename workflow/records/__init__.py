"""What is kept, shown and sent: the audit hash chain and its signed checkpoints, materials, notices,
certificates, notifications and mail, backups, the read-side queries of the pages, reports and exports.

May import: :mod:`workflow.pipeline`, :mod:`workflow.access`, :mod:`workflow.time`, :mod:`workflow.models`,
:mod:`workflow.db`, :mod:`workflow.errors`.
"""
