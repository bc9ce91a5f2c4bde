"""The ORM models; importing this package registers every table on ``Base.metadata``."""

from scope_api.models.api_keys import ApiKey, RefreshToken
from scope_api.models.base import Base
from scope_api.models.executions import Execution, ExecutionSpan
from scope_api.models.golden_sets import GoldenItem, GoldenSet
from scope_api.models.prompts import Promotion, Prompt, PromptTag, PromptVersion
from scope_api.models.providers import ModelPriceOverride, Provider
from scope_api.models.runs import ResponseCacheEntry, Run, RunCell
from scope_api.models.tenants import Tenant, User

__all__ = [
           "ApiKey",
           "Base",
           "Execution",
           "ExecutionSpan",
           "GoldenItem",
           "GoldenSet",
           "ModelPriceOverride",
           "Promotion",
           "Prompt",
           "PromptTag",
           "PromptVersion",
           "Provider",
           "RefreshToken",
           "ResponseCacheEntry",
           "Run",
           "RunCell",
           "Tenant",
           "User",
]
