"""Official statements of incidents: drafts with versions, approval workflows by severity,
publish records, the tenant's crisis mode, and stakeholders (contacts, the engagement log and
the right-of-reply tracker). Models in ``models``, writes in ``services``, reads in
``selectors``; ``docs/statements.md`` describes the whole."""
