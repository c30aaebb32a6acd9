"""The ``quanta`` command line: thin commands that parse, call the facade and render."""
