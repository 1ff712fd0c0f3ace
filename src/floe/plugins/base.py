"""PluginType and the Plugin base class every plugin derives from."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NamedTuple, Protocol, Self, cast, get_args

from pydantic import BaseModel, ConfigDict, SecretStr
from typing_extensions import TypeVar

if TYPE_CHECKING:
    from floe.spec.common import SecretRef

#: Turns a secret reference into its value (a SecretStr: never printed), at run time only.
SecretResolver = Callable[["SecretRef"], SecretStr]


class TokenSource(Protocol):
    """OAuth2 bearer tokens for the platform's services (catalogs, management APIs): each
    call answers a token valid for a while yet (fetched once, cached, fetched again before it
    expires); ``subject`` is who the tokens speak for (what audit records carry)."""

    def token(self) -> str: ...

    def subject(self) -> str: ...


#: The plugin API version of a plugin that does not derive from a category's ABC; each ABC
#: carries its own ``api_version`` (floe.plugins.abcs), which is what the registry checks.
FLOE_API_VERSION = "1.0"


class PluginType(StrEnum):
    """The 15 plugin categories; entry-point group is ``floe.<value>``."""

    COMPUTE = "compute"
    ORCHESTRATOR = "orchestrator"
    CATALOG = "catalog"
    STORAGE = "storage"
    TELEMETRY_BACKEND = "telemetry_backend"
    LINEAGE_BACKEND = "lineage_backend"
    DBT = "dbt"
    SEMANTIC_LAYER = "semantic_layer"
    INGESTION = "ingestion"
    QUALITY = "quality"
    SECRETS = "secrets"
    IDENTITY = "identity"
    RBAC = "rbac"
    NETWORK_SECURITY = "network_security"
    ALERT_CHANNEL = "alert_channel"

    @property
    def entry_point_group(self) -> str:
        """The importlib.metadata entry-point group plugins of this type register under."""
        return f"floe.{self.value}"


class HealthState(StrEnum):
    """Outcome of a health check."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


class HealthStatus(NamedTuple):
    """What a plugin's health check found."""

    state: HealthState
    message: str = ""

    @property
    def ok(self) -> bool:
        """True when the plugin can be used."""
        return self.state is not HealthState.UNHEALTHY


class PluginNotice(NamedTuple):
    """A warning about a valid config (e.g. a risk the platform team accepted knowingly)."""

    config_path: tuple[str | int, ...]
    message: str
    hint: str = ""


class EmptyConfig(BaseModel):
    """Config of a plugin that takes none."""

    model_config = ConfigDict(extra="forbid", frozen=True)


#: A plugin's config model; ``Plugin`` alone means any config.
ConfigT = TypeVar("ConfigT", bound=BaseModel, default=BaseModel, covariant=True)


class Plugin(Generic[ConfigT]):
    """Base of every plugin.

    A plugin declares what it is as class attributes (name, version, floe_api_version, its
    category) and its config model as the type parameter of its ABC —
    ``class SqlCatalogPlugin(CatalogPlugin[SqlCatalogConfig])`` — so ``self.config`` is typed;
    it is built from a config validated against that model. A plugin may still set
    ``config_model`` itself (plugins written before the type parameter do).
    """

    plugin_type: ClassVar[PluginType]
    name: ClassVar[str]
    version: ClassVar[str] = "0.1.0"
    floe_api_version: ClassVar[str] = FLOE_API_VERSION
    description: ClassVar[str] = ""
    config_model: ClassVar[type[BaseModel]] = EmptyConfig

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """``config_model`` from the type parameter (``CatalogPlugin[SqlCatalogConfig]``)."""
        super().__init_subclass__(**kwargs)
        if "config_model" in cls.__dict__:
            return
        for base in cls.__dict__.get("__orig_bases__", ()):
            for arg in get_args(base):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    cls.config_model = arg
                    return

    def __init__(self, config: ConfigT | None = None) -> None:
        self._config = config if config is not None else cast(ConfigT, self.config_model())

    @property
    def config(self) -> ConfigT:
        """The validated config."""
        return self._config

    @classmethod
    def from_config(cls, raw: dict[str, Any]) -> Self:
        """Validate ``raw`` against :attr:`config_model` and build the plugin."""
        return cls(cast(ConfigT, cls.config_model.model_validate(raw)))

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        """The JSON Schema of the config (what ``floe plugins list --json`` exports)."""
        return cls.config_model.model_json_schema(mode="validation")

    def notices(self) -> list[PluginNotice]:
        """Warnings about the config, shown by compile (none by default)."""
        return []

    def health_check(self) -> HealthStatus:
        """Whether the plugin can do its job here; override to check real dependencies."""
        return HealthStatus(HealthState.HEALTHY, "no external dependency")
