"""REFI-QDA exchange formats: `.qdpx` projects and `.qdc` codebooks."""
