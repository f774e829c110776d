"""The protocol's steps on loaded data: Step 1 sorting, Step 2 units and proposals, final status, agreement."""
