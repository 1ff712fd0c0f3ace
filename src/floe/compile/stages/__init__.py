"""The six stages, in order."""

from floe.compile.stages.build import CompileStage
from floe.compile.stages.enforce import EnforceStage
from floe.compile.stages.generate import GenerateStage
from floe.compile.stages.load import LoadStage
from floe.compile.stages.resolve import ResolveStage
from floe.compile.stages.validate import ValidateStage

#: LOAD → VALIDATE → RESOLVE → ENFORCE (``floe validate`` stops here).
CHECK_STAGES = (LoadStage(), ValidateStage(), ResolveStage(), EnforceStage())
#: All six stages (``floe compile``).
ALL_STAGES = (*CHECK_STAGES, CompileStage(), GenerateStage())

__all__ = [
    "ALL_STAGES",
    "CHECK_STAGES",
    "CompileStage",
    "EnforceStage",
    "GenerateStage",
    "LoadStage",
    "ResolveStage",
    "ValidateStage",
]
