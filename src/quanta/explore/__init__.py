"""Reading and finding products: snapshots (current, by id, as of a time), SQL over them, search."""
