"""The ORM models; importing this package registers every table on ``Base.metadata``."""

from scope_api.models.api_keys import ApiKey, RefreshToken
from scope_api.models.base import Base
from scope_api.models.executions import Execution, ExecutionSpan
from scope_api.models.prompts import Promotion, Prompt, PromptTag, PromptVersion
from scope_api.models.providers import ModelPriceOverride, Provider
from scope_api.models.tenants import Tenant, User

__all__ = [
           "ApiKey",
           "Base",
           "Execution",
           "ExecutionSpan",
           "ModelPriceOverride",
           "Promotion",
           "Prompt",
           "PromptTag",
           "PromptVersion",
           "Provider",
           "RefreshToken",
           "Tenant",
           "User",
]
