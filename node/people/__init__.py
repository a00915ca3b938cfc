"""Find people: a resident looks through every profile of a partner city that passes
their gates, narrowed by filters and ranked by the suggestions' score.

The list is served from the side the matching engine already prepared per peer
(``node.matches``), so this feature reads matching's state but never writes it.
"""
