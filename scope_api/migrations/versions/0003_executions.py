"""executions and their spans

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "executions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("prompt", sa.String(length=128), nullable=False),
        sa.Column("prompt_id", sa.String(length=32), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=128), nullable=False),
        sa.Column("provider_id", sa.String(length=32), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rendered", sa.JSON(), nullable=False),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("error", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=True),
        sa.Column("output_tokens", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("cost_usd", sa.String(length=40), nullable=True),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("span_id", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["prompt_id"],
            ["prompts.id"],
            name=op.f("fk_executions_prompt_id_prompts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_executions_provider_id_providers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_executions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_executions")),
    )
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_executions_prompt_id"), ["prompt_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_executions_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(
            "ix_executions_tenant_created",
            ["tenant_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_executions_tenant_model_created",
            ["tenant_id", "model", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_executions_tenant_prompt_created",
            ["tenant_id", "prompt", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_executions_tenant_provider_created",
            ["tenant_id", "provider", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_executions_tenant_status_created",
            ["tenant_id", "status", "created_at", "id"],
            unique=False,
        )

    op.create_table(
        "execution_spans",
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("span_id", sa.String(length=16), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("execution_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("prompt", sa.String(length=128), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_execution_spans_execution_id_executions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_execution_spans_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("trace_id", "span_id", name=op.f("pk_execution_spans")),
    )
    with op.batch_alter_table("execution_spans", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_execution_spans_execution_id"),
            ["execution_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_execution_spans_tenant_prompt_start",
            ["tenant_id", "prompt", "start", "span_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_execution_spans_tenant_start",
            ["tenant_id", "start", "span_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_execution_spans_tenant_trace", ["tenant_id", "trace_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("execution_spans", schema=None) as batch_op:
        batch_op.drop_index("ix_execution_spans_tenant_trace")
        batch_op.drop_index("ix_execution_spans_tenant_start")
        batch_op.drop_index("ix_execution_spans_tenant_prompt_start")
        batch_op.drop_index(batch_op.f("ix_execution_spans_execution_id"))

    op.drop_table("execution_spans")
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.drop_index("ix_executions_tenant_status_created")
        batch_op.drop_index("ix_executions_tenant_provider_created")
        batch_op.drop_index("ix_executions_tenant_prompt_created")
        batch_op.drop_index("ix_executions_tenant_model_created")
        batch_op.drop_index("ix_executions_tenant_created")
        batch_op.drop_index(batch_op.f("ix_executions_provider_id"))
        batch_op.drop_index(batch_op.f("ix_executions_prompt_id"))

    op.drop_table("executions")
