"""Step registry: recipe keys to stage classes, built-ins plus explicit ``module:Class`` plugins."""

from __future__ import annotations

import importlib

from curate.stage import Stage

_STEPS: dict[str, type[Stage]] = {}
_BUILTINS_LOADED = False


def register(cls: type[Stage]) -> type[Stage]:
    """Class decorator: make a stage available to recipes under ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} has no name: set the class attribute `name` (the recipe key)")
    existing = _STEPS.get(cls.name)
    if existing is not None and existing is not cls and existing.__qualname__ != cls.__qualname__:
        raise ValueError(
            f"two steps are called {cls.name!r}: {existing.__module__}.{existing.__qualname__} "
            f"and {cls.__module__}.{cls.__qualname__}"
        )
    _STEPS[cls.name] = cls
    return cls


def _load_builtins() -> None:
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        _BUILTINS_LOADED = True
        importlib.import_module("curate.stages")
        importlib.import_module("curate.classifiers")


def all_steps() -> dict[str, type[Stage]]:
    _load_builtins()
    return dict(sorted(_STEPS.items()))


def resolve(name: str) -> type[Stage]:
    """The stage class for a recipe key, or for an explicit plugin reference ``package.module:ClassName``."""
    if ":" in name:
        module_name, _, class_name = name.partition(":")
        if not module_name or module_name.startswith(".") or not class_name:
            raise KeyError(
                f"plugin step {name!r}: name the module by its full import path and the class, "
                "`package.module:ClassName` (relative names such as `.module:Class` are not supported); "
                "the module must be importable from the folder curate runs in or from PYTHONPATH"
            )
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            raise KeyError(f"plugin step {name!r} could not be loaded: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - the plugin's own module raised while importing
            raise KeyError(
                f"plugin step {name!r}: importing {module_name} failed: {type(exc).__name__}: {exc}"
            ) from exc
        if not (isinstance(cls, type) and issubclass(cls, Stage)):
            raise KeyError(f"plugin step {name!r} is not a curate Stage subclass")
        return cls
    steps = all_steps()
    if name not in steps:
        raise KeyError(name)
    return steps[name]
