"""Relational transfer: a dependency parser, graphs over its parses, relational layers, lexicons."""

from xdomain_nlp.relational.parser import BiaffineParser, load_parser, parse_windows
from xdomain_nlp.relational.tree import chu_liu_edmonds, decode_single_root

__all__ = ["BiaffineParser", "chu_liu_edmonds", "decode_single_root", "load_parser", "parse_windows"]
