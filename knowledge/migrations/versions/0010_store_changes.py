"""store changes: a log of the plans whose tasks changed, written by triggers, so every instance's search
index updates just those plans instead of rebuilding everything

Every write to plans, tasks and task_agencies (the importer, admin changes, restores, a hand-written
UPDATE) leaves a row naming the plan; writes to the agency registry leave a row without a plan. The
triggers, not the code, keep the log: no writer can forget it. Readers: knowledge.store_changes.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_REGISTRY = ("agencies", "agency_aliases", "group_members")
# The log keeps its newest KEEP rows (an instance further behind rebuilds its index); every PRUNE_EVERY-th
# row written trims it, so the writers keep it short and readers never write.
KEEP = 200_000
PRUNE_EVERY = 1000
_OPS = ("INSERT", "UPDATE", "DELETE")


def _sqlite_triggers() -> list[str]:
    out = []
    for op_ in _OPS:
        row = "OLD" if op_ == "DELETE" else "NEW"
        out.append(f"CREATE TRIGGER store_changes_plans_{op_.lower()} AFTER {op_} ON plans BEGIN "
                   f"INSERT INTO store_changes (plan_id) VALUES ({row}.id); END")
        moved = (" INSERT INTO store_changes (plan_id) SELECT OLD.plan_id WHERE OLD.plan_id <> NEW.plan_id;"
                 if op_ == "UPDATE" else "")
        out.append(f"CREATE TRIGGER store_changes_tasks_{op_.lower()} AFTER {op_} ON tasks BEGIN "
                   f"INSERT INTO store_changes (plan_id) VALUES ({row}.plan_id);{moved} END")
        out.append(f"CREATE TRIGGER store_changes_task_agencies_{op_.lower()} AFTER {op_} ON task_agencies BEGIN "
                   f"INSERT INTO store_changes (plan_id) SELECT plan_id FROM tasks WHERE id = {row}.task_id; END")
        for table in _REGISTRY:
            out.append(f"CREATE TRIGGER store_changes_{table}_{op_.lower()} AFTER {op_} ON {table} BEGIN "
                       f"INSERT INTO store_changes (plan_id) VALUES (NULL); END")
    out.append(f"CREATE TRIGGER store_changes_prune AFTER INSERT ON store_changes WHEN NEW.id % {PRUNE_EVERY} = 0 "
               f"BEGIN DELETE FROM store_changes WHERE id <= NEW.id - {KEEP}; END")
    return out


_PG_FUNCTIONS = {
    "plans": """
        IF TG_OP = 'DELETE' THEN INSERT INTO store_changes (plan_id) VALUES (OLD.id);
        ELSE INSERT INTO store_changes (plan_id) VALUES (NEW.id); END IF;""",
    "tasks": """
        IF TG_OP <> 'INSERT' THEN INSERT INTO store_changes (plan_id) VALUES (OLD.plan_id); END IF;
        IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.plan_id <> OLD.plan_id) THEN
            INSERT INTO store_changes (plan_id) VALUES (NEW.plan_id); END IF;""",
    "task_agencies": """
        IF TG_OP = 'DELETE' THEN INSERT INTO store_changes (plan_id) SELECT plan_id FROM tasks WHERE id = OLD.task_id;
        ELSE INSERT INTO store_changes (plan_id) SELECT plan_id FROM tasks WHERE id = NEW.task_id; END IF;""",
    "registry": "INSERT INTO store_changes (plan_id) VALUES (NULL);",
    "prune": f"DELETE FROM store_changes WHERE id <= NEW.id - {KEEP};",
}


def _pg_statements() -> list[str]:
    out = []
    for name, body in _PG_FUNCTIONS.items():
        out.append(f"CREATE OR REPLACE FUNCTION store_changes_{name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {body} RETURN NULL; END $$")
    for table in ("plans", "tasks", "task_agencies", *_REGISTRY):
        function = table if table in _PG_FUNCTIONS else "registry"
        out.append(f"CREATE TRIGGER store_changes_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION store_changes_{function}()")
    out.append(f"CREATE TRIGGER store_changes_prune AFTER INSERT ON store_changes FOR EACH ROW "
               f"WHEN (NEW.id % {PRUNE_EVERY} = 0) EXECUTE FUNCTION store_changes_prune()")
    return out


def upgrade() -> None:
    op.create_table('store_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True,
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _pg_statements() if postgres else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("plans", "tasks", "task_agencies", *_REGISTRY):
            op.execute(f"DROP TRIGGER IF EXISTS store_changes_{table} ON {table}")
        op.execute("DROP TRIGGER IF EXISTS store_changes_prune ON store_changes")
        for name in _PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS store_changes_{name}()")
    else:
        for table in ("plans", "tasks", "task_agencies", *_REGISTRY):
            for op_ in _OPS:
                op.execute(f"DROP TRIGGER IF EXISTS store_changes_{table}_{op_.lower()}")
        op.execute("DROP TRIGGER IF EXISTS store_changes_prune")
    op.drop_table('store_changes')
