"""The kernel. It knows nothing of the layers above it; they import from here."""
