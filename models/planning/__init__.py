"""The planning path: per workload, the self-hosted candidate (its plan or a default pairing) and the figures.

`plan_workload` is the one function every surface calls; `PlanFigures` is what it returns.
"""

from models.planning.candidate import Candidate
from models.planning.figures import PlanFigures
from models.planning.path import default_period, plan_all, plan_workload, planning_period

__all__ = ["Candidate", "PlanFigures", "default_period", "plan_all", "plan_workload", "planning_period"]
