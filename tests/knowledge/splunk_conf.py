"""Read the app's .conf files the way Splunk does, with Splunk's own conf parser library.

addonfactory-splunk-conf-parser-lib keeps key case (Splunk keys are case sensitive, configparser
lowercases them), joins backslash continuation lines and accepts Splunk's comment styles.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from addonfactory_splunk_conf_parser_lib import TABConfigParser

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = REPO_ROOT / "default"


@lru_cache(maxsize=None)
def read_conf(name: str, folder: Path = DEFAULT_DIR) -> dict[str, dict[str, str]]:
    """Stanza -> {key: value} of default/<name>.conf ({} when the file does not exist)."""
    path = folder / f"{name}.conf"
    if not path.exists():
        return {}
    parser = TABConfigParser()
    with path.open(encoding="utf-8") as handle:
        parser.read_file(handle)
    # The library keeps the continuation backslash when the line ends in a newline (it strips
    # "\\ " but not the newline first); Splunk drops the backslash and keeps the line break.
    return {stanza: {key: value.replace("\\\n", "\n") for key, value in settings.items()}
            for stanza, settings in parser.item_dict().items()}


def macro_definitions() -> dict[str, "Macro"]:
    """Macro name -> Macro; a stanza "name(2)" is the two-argument macro "name"."""
    macros = {}
    for stanza, settings in read_conf("macros").items():
        name, _, arity = stanza.partition("(")
        args = [a.strip() for a in settings.get("args", "").split(",") if a.strip()]
        macro = Macro(name=name, arity=int(arity.rstrip(")") or 0), args=args,
                      definition=settings["definition"])
        macros[macro.key] = macro
    return macros


class Macro:
    def __init__(self, name: str, arity: int, args: list[str], definition: str):
        self.name, self.arity, self.args, self.definition = name, arity, args, definition
        if len(args) != arity:
            raise ValueError(f"macro {name}({arity}) declares args {args}")

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, self.arity)

    def expand(self, values: list[str]) -> str:
        text = self.definition
        for arg, value in zip(self.args, values):
            text = text.replace(f"${arg}$", value)
        return text
