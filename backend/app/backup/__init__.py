"""`cairn backup DEST` / `cairn restore SRC`: a consistent snapshot of the database and the
originals it references, with a manifest of checksums (service.py)."""
