"""Design by working backwards: use cases → interaction map → overlay → ownership → SLOs."""
