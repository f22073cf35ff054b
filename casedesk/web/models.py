"""The web app keeps no tables of its own (login counters are casedesk.jobs windows)."""
