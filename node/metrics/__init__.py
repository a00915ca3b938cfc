"""What the city's monitoring (Prometheus) reads at ``GET /metrics``: counts of requests,
inbox activities, deliveries and matching runs kept in the process, and the queue and
population figures read from the database when scraped.

Nothing personal is ever a label: routes by name, peers by host, activities by type.
The feature is off unless ``[metrics]`` sets a token or a port (``setup``); the other
features record through :mod:`node.metrics.record`, which does nothing then.
"""
