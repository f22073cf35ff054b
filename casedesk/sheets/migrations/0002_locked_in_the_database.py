"""Locked means locked in the database too.

The services refuse every write to an approved or invoiced sheet, but raw SQL, another
client or the admin's bulk actions would not ask them. On PostgreSQL, triggers refuse:
- changing or removing a time entry at all (entries are written once; a correction is a
  new entry), except marking an entry of a locked sheet with the invoice run, once;
- a new entry on a locked sheet;
- changing a locked sheet, except invoicing an approved one and storing its first PDF;
- removing a locked sheet.
SQLite has no such triggers here: there the services are the guard.
"""

from django.db import migrations


class PostgresOnly(migrations.RunSQL):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


FORWARDS = [
    """
CREATE FUNCTION casedesk_time_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    probe sheets_timeentry;
    sheet_state text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT state INTO sheet_state FROM sheets_sheet WHERE id = NEW.sheet_id;
        IF sheet_state IN ('approved', 'invoiced') THEN
            RAISE EXCEPTION 'service sheet % is %: no new entries', NEW.sheet_id, sheet_state
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.invoice_run_id IS NULL AND NEW.invoice_run_id IS NOT NULL THEN
        probe := NEW;
        probe.invoice_run_id := NULL;
        SELECT state INTO sheet_state FROM sheets_sheet WHERE id = OLD.sheet_id;
        IF probe IS NOT DISTINCT FROM OLD AND sheet_state IN ('approved', 'invoiced') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'time entries are written once: % of entry % refused', TG_OP, OLD.id
        USING ERRCODE = 'restrict_violation';
END;
$$
""",
    """
CREATE TRIGGER sheets_timeentry_guard
    BEFORE INSERT OR UPDATE OR DELETE ON sheets_timeentry
    FOR EACH ROW EXECUTE FUNCTION casedesk_time_entry_guard()
""",
    """
CREATE FUNCTION casedesk_sheet_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    probe sheets_sheet;
BEGIN
    IF OLD.state NOT IN ('approved', 'invoiced') THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        probe := NEW;
        IF OLD.state = 'approved' AND NEW.state = 'invoiced' THEN
            probe.state := OLD.state;
            probe.invoiced_at := OLD.invoiced_at;
        END IF;
        IF OLD.pdf_sha256 = '' THEN
            probe.pdf := OLD.pdf;
            probe.pdf_sha256 := OLD.pdf_sha256;
        END IF;
        IF probe IS NOT DISTINCT FROM OLD THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'service sheet % is % and locked: % refused', OLD.id, OLD.state, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$
""",
    """
CREATE TRIGGER sheets_sheet_guard
    BEFORE UPDATE OR DELETE ON sheets_sheet
    FOR EACH ROW EXECUTE FUNCTION casedesk_sheet_guard()
""",
]

BACKWARDS = [
    "DROP TRIGGER sheets_sheet_guard ON sheets_sheet",
    "DROP FUNCTION casedesk_sheet_guard()",
    "DROP TRIGGER sheets_timeentry_guard ON sheets_timeentry",
    "DROP FUNCTION casedesk_time_entry_guard()",
]


class Migration(migrations.Migration):
    dependencies = [("sheets", "0001_service_sheet")]

    operations = [PostgresOnly(FORWARDS, BACKWARDS)]
