"""Trustworthy products: checks as data (from the schema and the SLOs), measured in one scan,
with honest outcomes and a quality gate before publishing."""
