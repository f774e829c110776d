"""What reviewers write: worksheets, the decisions log, and the coding and adjudication walks as state machines."""
