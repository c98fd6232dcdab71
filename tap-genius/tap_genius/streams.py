"""The 18 Genius entities: the table each reads, its key, its change column and its columns
(those the old sync selected; see docs/sources/genius.md)."""

from __future__ import annotations

from tap_genius.client import GeniusStream
from tap_genius.joins import PRIMARY_USER, hubspot_id


class AppointmentsStream(GeniusStream):
    """Appointments, with the HubSpot id of their third-party source when it is HubSpot's."""

    name = "appointments"
    table_name = "appointment"
    columns = (
        "id", "prospect_id", "prospect_source_id", "user_id", "type_id", "date", "time",
        "duration", "address1", "address2", "city", "state", "zip", "email", "notes",
        "add_user_id", "add_date", "assign_date", "confirm_user_id", "confirm_date",
        "confirm_with", "spouses_present", "is_complete", "complete_outcome_id",
        "complete_user_id", "complete_date", "updated_at", "marketsharp_id",
        "marketsharp_appt_type", "leap_estimate_id", "third_party_source_id",
    )  # fmt: skip
    lookups = (hubspot_id("hubspot_appointment_id"),)


class DivisionsStream(GeniusStream):
    name = "divisions"
    table_name = "division"
    columns = (
        "id", "group_id", "region_id", "label", "abbreviation", "is_utility", "is_corp",
        "is_omniscient", "is_inactive", "account_scheduler_id", "created_at", "updated_at",
    )  # fmt: skip


class UsersStream(GeniusStream):
    """Users from `user_data`, with `primary_user_id` from their `users_userassociations`
    row. `user_data` also holds an SSN, calendar tokens and more: only the listed columns
    are ever read, new ones included."""

    name = "users"
    table_name = "user_data"
    key = ("user_id",)
    reads_new_columns = False
    columns = (
        "user_id", "division_id", "title_id", "manager_user_id", "first_name",
        "first_name_alt", "last_name", "email", "personal_email", "birth_date", "gender_id",
        "marital_status_id", "time_zone_name", "hired_on", "start_date", "add_user_id",
        "add_datetime", "updated_at", "is_inactive", "inactive_on", "inactive_reason_id",
        "inactive_reason_other", "inactive_transfer_division_id", "user_associations_id",
    )  # fmt: skip

    lookups = (PRIMARY_USER,)


class ProspectsStream(GeniusStream):
    """Prospects, with the HubSpot contact id of their third-party source."""

    name = "prospects"
    table_name = "prospect"
    columns = (
        "id", "division_id", "user_id", "first_name", "last_name", "alt_first_name",
        "alt_last_name", "address1", "address2", "city", "county", "state", "zip",
        "year_built", "phone1", "phone2", "email", "notes", "add_user_id", "add_date",
        "marketsharp_id", "leap_customer_id", "third_party_source_id", "updated_at",
    )  # fmt: skip
    lookups = (hubspot_id("hubspot_contact_id"),)


class LeadsStream(GeniusStream):
    """Leads (`lead` is a reserved word; SQLAlchemy quotes it). Many rows were never
    updated, so the change falls back to `added_on`."""

    name = "leads"
    table_name = "lead"
    key = ("lead_id",)
    change_columns = ("updated_at", "added_on")
    columns = (
        "lead_id", "first_name", "last_name", "email", "phone1", "address1", "city", "state",
        "zip", "source", "added_by", "division", "notes", "status", "copied_to_id",
        "added_on", "updated_at",
    )  # fmt: skip


class QuotesStream(GeniusStream):
    name = "quotes"
    table_name = "quote"
    columns = (
        "id", "prospect_id", "appointment_id", "job_id", "client_cid", "service_id", "label",
        "description", "amount", "expire_date", "status_id", "contract_file_id",
        "estimate_file_id", "add_user_id", "add_date", "updated_at",
    )  # fmt: skip


class ServicesStream(GeniusStream):
    name = "services"
    table_name = "service"
    columns = (
        "id", "label", "is_active", "is_lead_required", "order_number", "created_at",
        "updated_at",
    )  # fmt: skip


class ProspectSourcesStream(GeniusStream):
    name = "prospect_sources"
    table_name = "prospect_source"
    change_columns = ("updated_at", "add_date")
    columns = (
        "id", "prospect_id", "marketing_source_id", "source_date", "notes", "add_user_id",
        "add_date", "updated_at", "source_user_id",
    )  # fmt: skip


class AppointmentTypesStream(GeniusStream):
    """A small reference table without a change column: read whole every time."""

    name = "appointment_types"
    table_name = "appointment_type"
    change_columns = ()
    columns = ("id", "label", "is_active")


class AppointmentOutcomesStream(GeniusStream):
    name = "appointment_outcomes"
    table_name = "appointment_outcome"
    columns = ("id", "type_id", "label", "is_active", "created_at", "updated_at")


class AppointmentServicesStream(GeniusStream):
    """The appointment-service join table: a composite key, no id column."""

    name = "appointment_services"
    table_name = "appointment_to_service"
    key = ("appointment_id", "service_id")
    columns = ("appointment_id", "service_id", "created_at", "updated_at")


class AppointmentOutcomeTypesStream(GeniusStream):
    """Full table as in the old sync, though the change columns exist."""

    name = "appointment_outcome_types"
    table_name = "appointment_outcome_type"
    change_columns = ()
    columns = ("id", "label", "sort_idx", "is_active", "created_at", "updated_at")


class DivisionGroupsStream(GeniusStream):
    """Division groups; the payment and messaging credentials stay out by default."""

    name = "division_groups"
    table_name = "division_group"
    credential_columns = ("paysimple_secret", "mes_profile_key")
    columns = (
        "id", "group_label", "region", "default_time_zone_name", "intern_payroll_start",
        "painter_payroll_start", "is_active", "cc_profile_id", "mes_profile_id",
        "mes_profile_key", "docusign_acct_id", "paysimple_username", "paysimple_secret",
        "hub_account_id", "created_at", "updated_at",
    )  # fmt: skip


class MarketingSourcesStream(GeniusStream):
    name = "marketing_sources"
    table_name = "marketing_source"
    columns = (
        "id", "type_id", "label", "description", "start_date", "end_date", "add_user_id",
        "add_date", "is_active", "is_allow_lead_modification", "updated_at",
    )  # fmt: skip


class MarketingSourceTypesStream(GeniusStream):
    name = "marketing_source_types"
    table_name = "marketing_source_type"
    change_columns = ("updated_at", "created_at")
    columns = (
        "id", "label", "description", "is_active", "list_order", "created_at", "updated_at",
    )  # fmt: skip


class MarketsharpSourcesStream(GeniusStream):
    name = "marketsharp_sources"
    table_name = "marketsharp_source"
    columns = ("id", "marketsharp_id", "source_name", "inactive", "created_at", "updated_at")


class MarketsharpMarketingSourceMapsStream(GeniusStream):
    name = "marketsharp_marketing_source_maps"
    table_name = "marketsharp_marketing_source_map"
    key = ("marketsharp_id",)
    columns = ("marketsharp_id", "marketing_source_id", "created_at", "updated_at")


class UserTitlesStream(GeniusStream):
    name = "user_titles"
    table_name = "user_title"
    columns = (
        "id", "title", "abbreviation", "roles", "type_id", "section_id", "sort",
        "pay_component_group_id", "is_active", "is_unique_per_division", "created_at",
        "updated_at",
    )  # fmt: skip


STREAM_TYPES: list[type[GeniusStream]] = [
    AppointmentsStream,
    DivisionsStream,
    UsersStream,
    ProspectsStream,
    LeadsStream,
    QuotesStream,
    ServicesStream,
    ProspectSourcesStream,
    AppointmentTypesStream,
    AppointmentOutcomesStream,
    AppointmentServicesStream,
    AppointmentOutcomeTypesStream,
    DivisionGroupsStream,
    MarketingSourcesStream,
    MarketingSourceTypesStream,
    MarketsharpSourcesStream,
    MarketsharpMarketingSourceMapsStream,
    UserTitlesStream,
]
