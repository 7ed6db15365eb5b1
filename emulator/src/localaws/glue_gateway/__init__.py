"""LocalStack service plugin that serves the ``glue`` API on LocalStack's own port by forwarding each
request, unchanged, to a Glue-compatible service (``LOCALAWS_GLUE_URL``). See :mod:`.plugin`."""
