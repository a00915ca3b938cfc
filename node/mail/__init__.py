"""Mail to residents leaves through a durable queue: written with the change that
causes it, sent afterwards by the mail worker (never on the request path)."""
