"""Example meshes and the synthetic systems of record they are built from."""
