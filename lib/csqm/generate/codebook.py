"""Codes and field layouts taken from the loaded config: every code the generator writes is checked against it."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter

from csqm.config import Config, InterfaceSpec

from .common import Pick

CODEC = {"GBK": "gbk", "UTF-8": "utf-8"}


class GeneratorConfigError(ValueError):
    """The config names a code or a required field the generator cannot produce."""


class CodeBook:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.cities = tuple(cfg.codes.cities)
        self.city_codes = tuple(c.city_code for c in self.cities)
        self.gb4 = {c.city_code: c.gb_code[:4] for c in self.cities}
        self.city_pick = Pick([(i, c.weight or 1.0) for i, c in enumerate(self.cities)])

    def codes(self, ifcode: str, field: str) -> tuple[str, ...]:
        f = self.cfg.interface(ifcode).field(field)
        if f.codes is None:
            raise GeneratorConfigError(f"{ifcode}.{field} is not a code field in the config")
        return f.codes

    def need(self, ifcode: str, field: str, *values: str) -> None:
        allowed = self.codes(ifcode, field)
        for v in values:
            if v not in allowed:
                raise GeneratorConfigError(f"{ifcode}.{field}: the generator writes {v!r}, which the config lacks")

    def pick(self, ifcode: str, field: str, weights: Mapping[str, float], default: float = 0.0) -> Pick:
        """A weighted picker over the config's codes of a field; codes missing from `weights` get `default`."""
        allowed = self.codes(ifcode, field)
        self.need(ifcode, field, *weights)
        pairs = [(c, weights.get(c, default)) for c in allowed]
        pairs = [p for p in pairs if p[1] > 0]
        if not pairs:
            raise GeneratorConfigError(f"{ifcode}.{field}: no code with a positive weight")
        return Pick(pairs)

    def list_codes(self, name: str) -> tuple[str, ...]:
        return tuple(self.cfg.codes.lists[name])


class Layout:
    """Maps a record built in the generator's field order onto the config's field order for one interface."""

    def __init__(self, spec: InterfaceSpec, gen_fields: Sequence[str]):
        self.spec = spec
        self.codec = CODEC[spec.encoding]
        names = spec.field_names
        pos = {n: i for i, n in enumerate(gen_fields)}
        if len(pos) != len(gen_fields):
            raise GeneratorConfigError(f"{spec.ifcode}: duplicate generator field")
        unknown = [f.name for f in spec.fields if f.name not in pos and f.required]
        if unknown:
            raise GeneratorConfigError(f"{spec.ifcode}: the generator cannot fill required field {unknown[0]!r}")
        self.identity = tuple(names) == tuple(gen_fields)
        self.n = len(names)
        if self.identity:
            self.reorder: Callable[[list], Sequence[str]] = lambda rec: rec
        else:
            pad = len(gen_fields)  # index of an appended '' for fields the generator does not know
            idx = [pos.get(n, pad) for n in names]
            get = itemgetter(*idx) if len(idx) > 1 else (lambda rec, i=idx[0]: (rec[i],))
            self.reorder = lambda rec: get(rec + [""]) if pad in idx else get(rec)

    def join(self, rec: list) -> str:
        return "\x05".join(self.reorder(rec))

    def encode(self, records: Sequence[list]) -> bytes:
        """Records -> the bytes of a data file: fields joined by 0x05, every record ended by 0x0A."""
        if not records:
            return b""
        if self.identity:
            text = "\n".join(["\x05".join(r) for r in records])
        else:
            ro = self.reorder
            text = "\n".join(["\x05".join(ro(r)) for r in records])
        return (text + "\n").encode(self.codec)
