"""The only writers of job state: every change runs through the state machine in a unit of work
that publishes its notices after commit."""
