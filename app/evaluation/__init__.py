"""Programme evaluation: a project's money and places, households' financial aid, cohort
outcomes, the five evaluation axes, the yearly bilan and the national aggregate export.

Every figure of the domain is a ``FigureTable`` (``app/evaluation/tables.py``): the modules
that compute figures register a provider; the bilan page, its documents, the national export
and the side-by-side comparison read them through ``collect`` and never compute a figure
themselves.
"""
