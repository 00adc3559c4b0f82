"""The schema: every table, one module per area, all on one metadata."""

from models.schema.base import Base
from models.schema.costs import BASIS_RANK, CostLine, FocusExport, Price
from models.schema.gpu import (
    GpuCostProfile,
    GpuHourly,
    GpuSample,
    GpuType,
    InferenceHourly,
    InferenceLatencyBucket,
    InferenceLatencyHourly,
    InferenceSample,
    ModelThroughput,
)
from models.schema.ledger import AuditEntry, Commitment, FxRate, Period, PeriodSnapshot, Restatement
from models.schema.ops import AppSetting, AttributionRule, Budget, IngestCursor, IngestRun, Scenario, Workload
from models.schema.planning import WorkloadPlan, WorkloadPlanFigures
from models.schema.rollups import DataVersion, RequestDisciplineHourly, RequestHourly
from models.schema.usage import UsageHourly, UsageRequest

metadata = Base.metadata

__all__ = [
    "Base", "metadata", "BASIS_RANK", "CostLine", "FocusExport", "Price", "GpuCostProfile", "GpuHourly", "GpuSample",
    "GpuType", "InferenceHourly", "InferenceLatencyBucket", "InferenceLatencyHourly", "InferenceSample", "ModelThroughput", "AppSetting", "AttributionRule",
    "Budget", "IngestCursor", "AuditEntry", "Commitment", "FxRate", "Period", "PeriodSnapshot",
    "Restatement", "DataVersion", "RequestDisciplineHourly", "RequestHourly", "IngestRun", "Scenario", "Workload",
    "UsageHourly", "UsageRequest", "WorkloadPlan", "WorkloadPlanFigures",
]
