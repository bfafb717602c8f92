"""Job events: a server-sent stream of document status/stage changes the caller may read."""
