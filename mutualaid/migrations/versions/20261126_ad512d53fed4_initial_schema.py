"""Initial schema: people, requests, offers, matches, runs, messages, accounts, audit, places.

Reviewed by hand: booleans default through sa.false()/sa.true() so the same migration
runs on SQLite and PostgreSQL; the partial unique index uq_matches_live_request is what
keeps a request from having two live matches.

Revision ID: ad512d53fed4
Revises: 
Create Date: 2026-11-26 04:42:05.979332

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ad512d53fed4'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('admin', 'coordinator', 'viewer', name='role', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('email', name=op.f('uq_accounts_email'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_type', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('subject_type', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('from_state', sa.String(length=20), nullable=True),
    sa.Column('to_state', sa.String(length=20), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_events_subject', ['subject_type', 'subject_id'], unique=False)

    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('name', sa.String(length=80), nullable=True),
    sa.Column('language', sa.String(length=8), server_default='en', nullable=False),
    sa.Column('opted_out', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('opted_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('consent_source', sa.String(length=40), nullable=True),
    sa.Column('blocked', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
    sa.UniqueConstraint('phone', name=op.f('uq_people_phone'))
    )
    op.create_table('places',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_places')),
    sa.UniqueConstraint('key', name=op.f('uq_places_key'))
    )
    op.create_table('aid_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=12), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('details', sa.Text(), server_default='', nullable=False),
    sa.Column('urgency', sa.Enum('normal', 'soon', 'urgent', name='urgency', native_enum=False, create_constraint=True, length=20), server_default='normal', nullable=False),
    sa.Column('status', sa.Enum('open', 'matched', 'completed', 'cancelled', name='request_status', native_enum=False, create_constraint=True, length=20), server_default='open', nullable=False),
    sa.Column('channel', sa.Enum('sms', 'web', 'coordinator', name='channel', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('language', sa.String(length=8), server_default='en', nullable=False),
    sa.Column('location_text', sa.String(length=200), server_default='', nullable=False),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.Column('location_label', sa.String(length=120), nullable=True),
    sa.Column('location_precision', sa.Enum('exact', 'address', 'place', 'postcode', 'none', name='precision', native_enum=False, create_constraint=True, length=20), server_default='none', nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('flagged', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('flag_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('matched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['requester_id'], ['people.id'], name=op.f('fk_aid_requests_requester_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aid_requests')),
    sa.UniqueConstraint('ref', name=op.f('uq_aid_requests_ref'))
    )
    with op.batch_alter_table('aid_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aid_requests_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_aid_requests_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index('ix_aid_requests_status_created', ['status', 'created_at'], unique=False)

    op.create_table('matching_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('triggered_by', sa.Integer(), nullable=True),
    sa.Column('dry_run', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('requests_considered', sa.Integer(), server_default='0', nullable=False),
    sa.Column('volunteers_considered', sa.Integer(), server_default='0', nullable=False),
    sa.Column('proposed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('unmatched', sa.Integer(), server_default='0', nullable=False),
    sa.Column('total_km', sa.Double(), server_default='0', nullable=False),
    sa.Column('solve_seconds', sa.Double(), server_default='0', nullable=False),
    sa.Column('proven_optimal', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['triggered_by'], ['accounts.id'], name=op.f('fk_matching_runs_triggered_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matching_runs'))
    )
    op.create_table('offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('location_text', sa.String(length=200), server_default='', nullable=False),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.Column('location_label', sa.String(length=120), nullable=True),
    sa.Column('location_precision', sa.Enum('exact', 'address', 'place', 'postcode', 'none', name='precision', native_enum=False, create_constraint=True, length=20), server_default='none', nullable=False),
    sa.Column('radius_km', sa.Double(), server_default='3', nullable=False),
    sa.Column('capacity', sa.Integer(), server_default='1', nullable=False),
    sa.Column('availability', sa.String(length=200), server_default='', nullable=False),
    sa.Column('vetted', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('vetted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('vetted_by', sa.Integer(), nullable=True),
    sa.Column('paused', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_offers_person_id_people')),
    sa.ForeignKeyConstraint(['vetted_by'], ['accounts.id'], name=op.f('fk_offers_vetted_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offers')),
    sa.UniqueConstraint('person_id', name=op.f('uq_offers_person_id'))
    )
    op.create_table('matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('proposed', 'accepted', 'declined', 'expired', 'withdrawn', 'completed', 'cancelled', name='match_status', native_enum=False, create_constraint=True, length=20), server_default='proposed', nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('km', sa.Double(), nullable=True),
    sa.Column('why', sa.Text(), server_default='', nullable=False),
    sa.Column('assigned_by', sa.Integer(), nullable=True),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assigned_by'], ['accounts.id'], name=op.f('fk_matches_assigned_by_accounts')),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_matches_offer_id_offers')),
    sa.ForeignKeyConstraint(['request_id'], ['aid_requests.id'], name=op.f('fk_matches_request_id_aid_requests')),
    sa.ForeignKeyConstraint(['run_id'], ['matching_runs.id'], name=op.f('fk_matches_run_id_matching_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matches'))
    )
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matches_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_matches_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_matches_request_id'), ['request_id'], unique=False)
        batch_op.create_index('uq_matches_live_request', ['request_id'], unique=True, sqlite_where=sa.text("status IN ('proposed', 'accepted')"), postgresql_where=sa.text("status IN ('proposed', 'accepted')"))

    op.create_table('offer_categories',
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_offer_categories_offer_id_offers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('offer_id', 'category', name=op.f('pk_offer_categories'))
    )
    with op.batch_alter_table('offer_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_categories_category'), ['category'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.Enum('inbound', 'outbound', name='direction', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), server_default='', nullable=False),
    sa.Column('media_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('status', sa.Enum('received', 'processed', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'suppressed', name='message_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('provider_sid', sa.String(length=64), nullable=True),
    sa.Column('dedupe_key', sa.String(length=120), nullable=True),
    sa.Column('template', sa.String(length=40), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('match_id', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('error_message', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['match_id'], ['matches.id'], name=op.f('fk_messages_match_id_matches')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_messages_person_id_people')),
    sa.ForeignKeyConstraint(['request_id'], ['aid_requests.id'], name=op.f('fk_messages_request_id_aid_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_messages_dedupe_key')),
    sa.UniqueConstraint('provider_sid', name=op.f('uq_messages_provider_sid'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_outbox', ['direction', 'status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_messages_person_created', ['person_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_request_id'), ['request_id'], unique=False)



def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_request_id'))
        batch_op.drop_index('ix_messages_person_created')
        batch_op.drop_index('ix_messages_outbox')

    op.drop_table('messages')
    with op.batch_alter_table('offer_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_categories_category'))

    op.drop_table('offer_categories')
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.drop_index('uq_matches_live_request', sqlite_where=sa.text("status IN ('proposed', 'accepted')"), postgresql_where=sa.text("status IN ('proposed', 'accepted')"))
        batch_op.drop_index(batch_op.f('ix_matches_request_id'))
        batch_op.drop_index(batch_op.f('ix_matches_offer_id'))
        batch_op.drop_index(batch_op.f('ix_matches_expires_at'))

    op.drop_table('matches')
    op.drop_table('offers')
    op.drop_table('matching_runs')
    with op.batch_alter_table('aid_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_aid_requests_status_created')
        batch_op.drop_index(batch_op.f('ix_aid_requests_requester_id'))
        batch_op.drop_index(batch_op.f('ix_aid_requests_category'))

    op.drop_table('aid_requests')
    op.drop_table('places')
    op.drop_table('people')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_subject')
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    op.drop_table('accounts')
