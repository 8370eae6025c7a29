"""Protobuf message classes for caffe.proto (the subset beside this file), built at run time.

No protoc step: the .proto text is parsed here (only the syntax it uses: messages, nested enums,
optional/repeated scalar, enum and message fields, `[default = ...]`, `[packed = true]`) into a
FileDescriptorProto, and protobuf's own runtime makes the classes. So the classes always match
the .proto, and work with whatever protobuf runtime is installed.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PROTO_PATH = Path(__file__).with_name("caffe.proto")

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "double": _F.TYPE_DOUBLE, "float": _F.TYPE_FLOAT, "int64": _F.TYPE_INT64, "uint64": _F.TYPE_UINT64,
    "int32": _F.TYPE_INT32, "uint32": _F.TYPE_UINT32, "bool": _F.TYPE_BOOL, "string": _F.TYPE_STRING,
    "bytes": _F.TYPE_BYTES,
}
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[A-Za-z_][\w.]*|-?[\d.][\w.+-]*|[{}\[\]=;,]')


def _tokens(text: str) -> list[str]:
    text = re.sub(r"//[^\n]*", "", text)
    return _TOKEN.findall(text)


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def next(self) -> str:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, tok: str) -> None:
        got = self.next()
        if got != tok:
            raise ValueError(f"caffe.proto: expected {tok!r}, got {got!r}")

    def file(self) -> descriptor_pb2.FileDescriptorProto:
        fdp = descriptor_pb2.FileDescriptorProto(name="caffe.proto", syntax="proto2")
        while self.i < len(self.toks):
            tok = self.next()
            if tok == "syntax":
                self.expect("=")
                self.next()
                self.expect(";")
            elif tok == "package":
                fdp.package = self.next()
                self.expect(";")
            elif tok == "message":
                self.message(fdp.message_type.add())
            elif tok == "enum":
                self.enum(fdp.enum_type.add())
            else:
                raise ValueError(f"caffe.proto: unexpected {tok!r}")
        return fdp

    def enum(self, e: descriptor_pb2.EnumDescriptorProto) -> None:
        e.name = self.next()
        self.expect("{")
        while (tok := self.next()) != "}":
            self.expect("=")
            e.value.add(name=tok, number=int(self.next()))
            self.expect(";")

    def message(self, m: descriptor_pb2.DescriptorProto) -> None:
        m.name = self.next()
        self.expect("{")
        while (tok := self.next()) != "}":
            if tok == "enum":
                self.enum(m.enum_type.add())
                continue
            label = {"optional": _F.LABEL_OPTIONAL, "repeated": _F.LABEL_REPEATED}[tok]
            type_name, name = self.next(), self.next()
            self.expect("=")
            f = m.field.add(name=name, number=int(self.next()), label=label)
            if type_name in _SCALARS:
                f.type = _SCALARS[type_name]
            else:
                f.type_name = type_name  # resolved once every message is known
            if self.toks[self.i] == "[":
                self.i += 1
                while True:
                    key = self.next()
                    self.expect("=")
                    value = self.next()
                    if key == "default":
                        f.default_value = value.strip("'\"")
                    elif key == "packed":
                        f.options.packed = value == "true"
                    if self.next() == "]":
                        break
            self.expect(";")


def _resolve(fdp: descriptor_pb2.FileDescriptorProto) -> None:
    """Turn the bare type names of message/enum fields into full names with their kind."""
    pkg = fdp.package
    top_msgs = {m.name for m in fdp.message_type}
    top_enums = {e.name for e in fdp.enum_type}
    for m in fdp.message_type:
        nested = {e.name for e in m.enum_type}
        for f in m.field:
            if not f.type_name:
                continue
            name = f.type_name
            if name in nested:
                f.type_name, f.type = f".{pkg}.{m.name}.{name}", _F.TYPE_ENUM
            elif name in top_enums:
                f.type_name, f.type = f".{pkg}.{name}", _F.TYPE_ENUM
            elif name in top_msgs:
                f.type_name, f.type = f".{pkg}.{name}", _F.TYPE_MESSAGE
            else:
                raise ValueError(f"caffe.proto: unknown type {name!r} of {m.name}.{f.name}")


@lru_cache(maxsize=1)
def file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    fdp = _Parser(PROTO_PATH.read_text(encoding="utf-8")).file()
    _resolve(fdp)
    return fdp


@lru_cache(maxsize=1)
def _pool() -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()  # a private pool: never clashes with another caffe.proto
    pool.Add(file_descriptor())
    return pool


def message_class(name: str) -> Any:
    """The message class of `caffe.<name>`, e.g. message_class("NetParameter")."""
    return message_factory.GetMessageClass(_pool().FindMessageTypeByName(f"caffe.{name}"))


def field_numbers(message: str) -> dict[str, int]:
    """Field name -> number of one message (used by the streaming .caffemodel writer)."""
    desc = _pool().FindMessageTypeByName(f"caffe.{message}")
    return {f.name: f.number for f in desc.fields}
