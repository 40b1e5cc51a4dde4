"""Pure functions, one direction each, that turn our records into Kaufland's and back."""
