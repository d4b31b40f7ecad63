"""kubectl's ways of printing: tables, durations, STATUS derivation, describe. Pure functions of
objects and `now`; the server builds Table rows with them and the CLI renders them."""
