"""Only data crosses between a learner's kernel and the checker.

The checker (``box.py``) runs a lab's test code in its own process. A name the test code uses
that the checker does not define (``orders_url``, ``consume``) is looked up in the learner's
kernel and comes back as *data*: JSON with a few tagged types. A learner function comes back
as a ``RemoteFunction``: calling it runs the function in the kernel with plain-data arguments
and returns its plain-data result. Nothing the kernel sends is ever executed or unpickled here,
so a learner who rewrites the kernel's side of the bridge can only change the *values* the
checker sees - which is what an answer is - never the checker's code or verdicts.

This is the model of PrairieLearn's Python grader (student code in its own process, data
across a socket), written here because it must speak through a Jupyter kernel: the labs'
learner code lives in a notebook kernel, not in a module the grader could import.
"""

from __future__ import annotations

import base64
import builtins
import datetime as _dt
import json
from typing import Any, Callable

# The kernel prints one line starting with MARK, then the JSON reply.
MARK = "@@edalab-bridge@@ "
MAX_REPLY = 2_000_000  # characters of one reply; more is refused as "too large to check"

# Installed silently in the learner's kernel when it starts (and again if the learner
# deleted it). Everything here runs in the learner's process: it decides nothing.
KERNEL_SIDE = r'''
class _EdalabBridge:
    import base64 as _b64, datetime as _dt, decimal as _dec, json as _json, sys as _sys
    MARK = %(mark)r

    def encode(self, value, depth=0):
        if depth > 40:
            return {"$t": "opaque", "repr": "(nested too deep)"}
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            return value if value == value and value not in (float("inf"), float("-inf")) else {"$t": "float", "v": repr(value)}
        if isinstance(value, (list, tuple, set, frozenset)):
            items = [self.encode(v, depth + 1) for v in (sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value)]
            kind = {list: None, tuple: "tuple", set: "set", frozenset: "set"}.get(type(value), None)
            return items if kind is None else {"$t": kind, "v": items}
        if isinstance(value, dict):
            return {"$t": "dict", "v": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()]}
        if isinstance(value, (bytes, bytearray)):
            return {"$t": "bytes", "v": self._b64.b64encode(bytes(value)).decode()}
        if isinstance(value, self._dt.datetime):
            return {"$t": "datetime", "v": value.isoformat()}
        if isinstance(value, self._dec.Decimal):
            return {"$t": "decimal", "v": str(value)}
        if isinstance(value, _EdalabRemote):
            return {"$t": "remote", "id": object.__getattribute__(value, "_id")}
        cls = type(value)
        if hasattr(cls, "__dataclass_fields__") and cls.__module__.split(".")[0] in ("edalab", "labchecks"):
            return {"$t": "dc", "cls": cls.__module__ + ":" + cls.__qualname__,
                    "v": {k: self.encode(getattr(value, k), depth + 1) for k in cls.__dataclass_fields__}}
        ref = len(self._refs)
        self._refs[ref] = value
        if callable(value):
            return {"$t": "fn", "name": getattr(value, "__name__", "function"), "ref": ref}
        return {"$t": "opaque", "type": type(value).__name__, "repr": repr(value)[:200], "ref": ref}

    def decode(self, value):
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        t = value.get("$t")
        if t == "tuple":
            return tuple(self.decode(v) for v in value["v"])
        if t == "set":
            return set(self.decode(v) for v in value["v"])
        if t == "dict":
            return {self.decode(k): self.decode(v) for k, v in value["v"]}
        if t == "bytes":
            return self._b64.b64decode(value["v"])
        if t == "datetime":
            return self._dt.datetime.fromisoformat(value["v"])
        if t == "decimal":
            return self._dec.Decimal(value["v"])
        if t == "float":
            return float(value["v"])
        if t == "remote":
            return _EdalabRemote(value["id"], value.get("type", "object"))
        if t == "dc":
            import importlib
            module, _, name = value["cls"].partition(":")
            cls = getattr(importlib.import_module(module), name)
            obj = object.__new__(cls)
            for k, v in value["v"].items():
                object.__setattr__(obj, k, self.decode(v))
            return obj
        if t == "shared":
            fresh = self.decode(value["v"])
            old = self._shared.get(value["id"])
            if old is None or type(old) is not type(fresh):
                self._shared[value["id"]] = fresh
                return fresh
            if isinstance(old, list):
                old[:] = fresh
            else:
                old.clear()
                old.update(fresh)
            return old
        if t == "ref":
            return self._refs[value["id"]]
        raise ValueError("unknown tag %%r" %% (t,))

    _refs = {}
    _shared = {}

    def _namespace(self):
        return self._sys.modules["__main__"].__dict__

    def reply(self, payload):
        payload["shared"] = {str(k): self.encode(v) for k, v in self._shared.items()}
        print(self.MARK + self._json.dumps(payload), flush=True)

    def get(self, name):
        ns = self._namespace()
        if name not in ns:
            return self.reply({"missing": True})
        self.reply({"value": self.encode(ns[name])})

    def set(self, name, value):
        self._namespace()[name] = self.decode(value)
        self.reply({"value": None})

    def ask(self, request):
        """A callback to the checker (a method of an object the checker passed in)."""
        answer = self._json.loads(input(self.MARK + self._json.dumps(request)))
        if "raised" in answer:
            raise self._exception(answer)
        return self.decode(answer.get("value"))

    def _exception(self, answer):
        import importlib
        try:
            cls = getattr(importlib.import_module(answer.get("module") or "builtins"), answer["raised"])
            if isinstance(cls, type) and issubclass(cls, BaseException):
                return cls(answer.get("message", ""))
        except Exception:
            pass
        return RuntimeError(f"{answer.get('raised')}: {answer.get('message', '')}")

    def call(self, target, args, kwargs):
        fn = self._refs[target] if isinstance(target, int) else self._namespace()[target]
        try:
            result = fn(*self.decode(args), **self.decode(kwargs))
        except BaseException as exc:
            return self.reply({"raised": type(exc).__name__, "module": type(exc).__module__,
                               "message": str(exc)[:2000]})
        self.reply({"value": self.encode(result)})

    def attr(self, target, name):
        try:
            value = getattr(self._refs[target], name)
        except BaseException as exc:
            return self.reply({"raised": type(exc).__name__, "module": type(exc).__module__,
                               "message": str(exc)[:2000]})
        self.reply({"value": self.encode(value)})


class _EdalabRemote:
    """An object that lives in the checker: every use is a question to the checker."""

    def __init__(self, id, type_name):
        object.__setattr__(self, "_id", id)
        object.__setattr__(self, "_type", type_name)

    def _ask(self, op, **kw):
        return __edalab_bridge__.ask({"op": op, "id": object.__getattribute__(self, "_id"), **kw})

    def __getattr__(self, name):
        return self._ask("getattr", name=name)

    def __enter__(self):
        return self._ask("enter")

    def __exit__(self, exc_type, exc, tb):
        return self._ask("exit", failed=exc_type is not None)

    def __setattr__(self, name, value):
        self._ask("setattr", name=name, value=__edalab_bridge__.encode(value))

    def __call__(self, *args, **kwargs):
        return self._ask("call", args=__edalab_bridge__.encode(list(args)),
                         kwargs=__edalab_bridge__.encode(dict(kwargs)))

    def __iter__(self):
        return iter(self._ask("list"))

    def __len__(self):
        return self._ask("len")

    def __bool__(self):
        return self._ask("bool")

    def __contains__(self, item):
        return self._ask("contains", item=__edalab_bridge__.encode(item))

    def __getitem__(self, key):
        return self._ask("getitem", key=__edalab_bridge__.encode(key))

    def __setitem__(self, key, value):
        self._ask("setitem", key=__edalab_bridge__.encode(key), value=__edalab_bridge__.encode(value))

    def __eq__(self, other):
        return self._ask("eq", other=__edalab_bridge__.encode(other))

    def __hash__(self):
        return hash(object.__getattribute__(self, "_id"))

    def __repr__(self):
        return self._ask("repr")

    __str__ = __repr__


__edalab_bridge__ = _EdalabBridge()
del _EdalabBridge
''' % {"mark": MARK}


class BridgeError(Exception):
    """The kernel did not answer with data the checker can use."""


class LearnerRaised(Exception):
    """A learner function raised in the kernel; the checker sees its type name and message."""

    def __init__(self, ename: str, message: str):
        super().__init__(f"{ename}: {message}")
        self.ename, self.message = ename, message


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


COURSE_MODULES = ("edalab", "labchecks")


def _course_class(path: str):
    """A class of the course's own packages, named ``module:qualname`` by the kernel."""
    import importlib

    module, _, name = str(path).partition(":")
    if module.split(".")[0] not in COURSE_MODULES or not name.isidentifier():
        raise BridgeError(f"the kernel named a class the checker does not know: {path!r}")
    return getattr(importlib.import_module(module), name)


def _course_dataclass(value: dict, decode) -> Any:
    cls = _course_class(value.get("cls"))
    if not hasattr(cls, "__dataclass_fields__"):
        raise BridgeError("not a course data class")
    obj = object.__new__(cls)
    for key in cls.__dataclass_fields__:
        object.__setattr__(obj, key, decode((value.get("v") or {}).get(key)))
    return obj


def learner_exception(reply: dict) -> BaseException:
    """The learner's exception, as the class it had where the checker can name it (a
    builtin or a course class: checks test `raises ValueError`), else LearnerRaised."""
    name, module = str(reply.get("raised"))[:100], str(reply.get("module") or "builtins")
    message = str(reply.get("message", ""))[:2000]
    cls = None
    if module == "builtins":
        cls = getattr(builtins, name, None)
    elif module in ("sqlite3", "json", "json.decoder", "decimal", "socket", "concurrent.futures._base"):
        import importlib  # standard-library exceptions the labs teach; importing them runs nothing new

        cls = getattr(importlib.import_module(module), name, None)
    elif module.split(".")[0] in COURSE_MODULES:
        try:
            cls = _course_class(f"{module}:{name}")
        except Exception:
            cls = None
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            exc = cls(message)
            exc.edalab_learner = True
            return exc
        except Exception:
            pass
    return LearnerRaised(name, message)


class Opaque:
    """A learner object the checker cannot copy (an instance of a learner class, a client):
    its attributes and methods are reached through the bridge, one question at a time."""

    def __init__(self, info: dict, bridge: "Bridge", ref: int | None):
        object.__setattr__(self, "_info", info)
        object.__setattr__(self, "_bridge", bridge)
        object.__setattr__(self, "_ref", ref)

    def __getattr__(self, name):
        if name.startswith("__") or self._ref is None:
            raise AttributeError(name)
        return self._bridge.attr(self._ref, name)

    def __repr__(self):
        return f"<learner {self._info.get('type', 'object')}: {self._info.get('repr', '')}>"


class RemoteFunction:
    """A learner function: calling it runs it in the kernel on plain-data arguments."""

    def __init__(self, bridge: "Bridge", target, name: str):
        self._bridge, self._target, self.__name__ = bridge, target, name

    def __call__(self, *args, **kwargs):
        return self._bridge.call(self._target, args, kwargs)

    def __repr__(self):
        return f"<learner function {self.__name__}>"


DATA = (type(None), bool, int, float, str, bytes, bytearray, list, tuple, dict, set, frozenset,
        _dt.datetime)


class Bridge:
    """The checker's side.

    ``run(code, timeout, stdin_hook) -> printed text`` executes code in the learner's kernel.
    Checker objects handed to learner code (a store, a broker, a handler that rejects one
    order) stay here: the kernel gets a proxy whose every use comes back as a question
    (through the kernel's stdin channel) and is answered by the real object, so the state a
    check inspects afterwards is the checker's own.
    """

    def __init__(self, run: Callable[..., str], timeout: float = 60.0):
        self._run = run
        self.timeout = timeout
        self.objects: list[Any] = []
        self.shared: list[Any] = []  # lists/dicts/sets passed to learner functions

    def install(self) -> None:
        self._run(KERNEL_SIDE, self.timeout, None)

    # -- data both ways ------------------------------------------------------------------
    def decode(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        tag = value.get("$t")
        if tag == "tuple":
            return tuple(self.decode(v) for v in value["v"])
        if tag == "set":
            return {_hashable(self.decode(v)) for v in value["v"]}
        if tag == "dict":
            return {_hashable(self.decode(k)): self.decode(v) for k, v in value["v"]}
        if tag == "bytes":
            return base64.b64decode(value["v"])
        if tag == "datetime":
            return _dt.datetime.fromisoformat(value["v"])
        if tag == "decimal":
            from decimal import Decimal
            return Decimal(value["v"])
        if tag == "float":
            return float(value["v"])
        if tag == "fn":
            ref = value.get("ref")
            return RemoteFunction(self, ref if isinstance(ref, int) else str(value.get("name")),
                                  str(value.get("name")))
        if tag == "opaque":
            ref = value.get("ref")
            return Opaque(value, self, ref if isinstance(ref, int) else None)
        if tag == "dc":
            return _course_dataclass(value, self.decode)
        if tag == "remote":
            index = value.get("id")
            if isinstance(index, int) and 0 <= index < len(self.objects):
                return self.objects[index]
            raise BridgeError("the kernel named a checker object that does not exist")
        raise BridgeError(f"the kernel sent an unknown value tag {tag!r}")

    def encode(self, value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            return value if value == value and abs(value) != float("inf") else {"$t": "float", "v": repr(value)}
        if isinstance(value, tuple) and type(value) is tuple:
            return {"$t": "tuple", "v": [self.encode(v) for v in value]}
        if isinstance(value, (set, frozenset)):
            return {"$t": "set", "v": [self.encode(v) for v in value]}
        if type(value) is list:
            return [self.encode(v) for v in value]
        if type(value) is dict:
            return {"$t": "dict", "v": [[self.encode(k), self.encode(v)] for k, v in value.items()]}
        if isinstance(value, (bytes, bytearray)):
            return {"$t": "bytes", "v": base64.b64encode(bytes(value)).decode()}
        if isinstance(value, _dt.datetime):
            return {"$t": "datetime", "v": value.isoformat()}
        if isinstance(value, RemoteFunction) and isinstance(value._target, int):
            return {"$t": "ref", "id": value._target}
        if isinstance(value, Opaque) and value._ref is not None:
            return {"$t": "ref", "id": value._ref}
        cls = type(value)
        if hasattr(cls, "__dataclass_fields__") and cls.__module__.split(".")[0] in COURSE_MODULES:
            # The course's own message types (frozen dataclasses) go by value both ways.
            return {"$t": "dc", "cls": f"{cls.__module__}:{cls.__qualname__}",
                    "v": {k: self.encode(getattr(value, k)) for k in cls.__dataclass_fields__}}
        # Anything else stays here; learner code gets a proxy.
        for index, obj in enumerate(self.objects):
            if obj is value:
                break
        else:
            self.objects.append(value)
            index = len(self.objects) - 1
        return {"$t": "remote", "id": index, "type": cls.__name__}

    # -- questions to the kernel ----------------------------------------------------------
    def _ask(self, code: str) -> dict:
        text = self._run(f"__edalab_bridge__.{code}", self.timeout, self.serve)
        if "__edalab_bridge__" in text and "NameError" in text:
            self.install()  # the learner deleted it: put it back and ask again
            text = self._run(f"__edalab_bridge__.{code}", self.timeout, self.serve)
        lines = [ln for ln in text.split("\n") if ln.startswith(MARK)]
        if not lines:
            raise BridgeError("the learner's kernel did not answer the checker"
                              + (f" ({text.strip()[-200:]})" if text.strip() else ""))
        raw = lines[-1][len(MARK):]
        if len(raw) > MAX_REPLY:
            raise BridgeError("the value is too large for the checker to read")
        try:
            return json.loads(raw)
        except ValueError:
            raise BridgeError("the learner's kernel answered the checker with something that is not data") from None

    def share(self, value: Any) -> Any:
        """A list, dict or set argument goes by reference, as in Python: the kernel keeps one
        copy per checker container, and each reply brings its contents back (``sync``)."""
        if type(value) in (list, dict, set):
            for index, obj in enumerate(self.shared):
                if obj is value:
                    break
            else:
                self.shared.append(value)
                index = len(self.shared) - 1
            return {"$t": "shared", "id": index, "v": self.encode(value)}
        return self.encode(value)

    def sync(self, reply: dict) -> None:
        for key, encoded in (reply.get("shared") or {}).items():
            try:
                obj = self.shared[int(key)]
                fresh = self.decode(encoded)
            except (ValueError, IndexError, BridgeError):
                continue
            if type(obj) is not type(fresh):
                continue
            if isinstance(obj, list):
                obj[:] = fresh
            else:
                obj.clear()
                obj.update(fresh)

    def _result(self, reply: dict):
        self.sync(reply)
        if "raised" in reply:
            raise learner_exception(reply)
        return self.decode(reply.get("value"))

    def get(self, name: str):
        """The learner's value of ``name``; KeyError if the notebook does not define it."""
        if not name.isidentifier():
            raise KeyError(name)
        reply = self._ask(f"get({name!r})")
        self.sync(reply)
        if reply.get("missing") or "raised" in reply:
            raise KeyError(name)
        value = reply.get("value")
        if isinstance(value, dict) and value.get("$t") == "fn":
            return RemoteFunction(self, name, name)
        return self._result(reply)

    def call(self, target, args: tuple, kwargs: dict):
        payload_args = json.dumps([self.share(a) for a in args])
        payload_kwargs = json.dumps({"$t": "dict", "v": [[k, self.share(v)] for k, v in kwargs.items()]})
        return self._result(self._ask(
            f"call({target!r}, __edalab_bridge__._json.loads({payload_args!r}), "
            f"__edalab_bridge__._json.loads({payload_kwargs!r}))"))

    def set_global(self, name: str, value) -> None:
        """Rebind a global of the learner's notebook (a check pointing the learner's code at
        a probe queue of its own); the value goes as data."""
        if not name.isidentifier():
            raise BridgeError(f"not a name: {name!r}")
        self._result(self._ask(f"set({name!r}, __edalab_bridge__._json.loads({json.dumps(self.encode(value))!r}))"))

    def attr(self, ref: int, name: str):
        if not name.isidentifier():
            raise AttributeError(name)
        return self._result(self._ask(f"attr({ref!r}, {name!r})"))

    # -- questions from the kernel (a proxy of a checker object was used) ---------------
    def serve(self, prompt: str) -> str:
        """Answer one callback: the real checker object does the work."""
        try:
            request = json.loads(prompt[len(MARK):]) if prompt.startswith(MARK) else None
            if not isinstance(request, dict):
                raise BridgeError("not a callback")
            index = request.get("id")
            if not (isinstance(index, int) and 0 <= index < len(self.objects)):
                raise BridgeError("unknown checker object")
            obj = self.objects[index]
            op = request.get("op")
            if op == "getattr":
                name = str(request.get("name"))
                if name.startswith("_"):
                    raise AttributeError(f"{type(obj).__name__} has no public attribute {name!r}")
                value = getattr(obj, name)
            elif op == "setattr":
                name = str(request.get("name"))
                if name.startswith("_"):
                    raise AttributeError(f"cannot set {name!r}")
                setattr(obj, name, self.decode(request.get("value")))
                value = None
            elif op == "call":
                value = obj(*self.decode(request.get("args") or []), **{
                    str(k): v for k, v in (self.decode(request.get("kwargs")) or {}).items()})
            elif op == "list":
                value = list(obj)
            elif op == "len":
                value = len(obj)
            elif op == "bool":
                value = bool(obj)
            elif op == "contains":
                value = self.decode(request.get("item")) in obj
            elif op == "getitem":
                value = obj[self.decode(request.get("key"))]
            elif op == "setitem":
                obj[self.decode(request.get("key"))] = self.decode(request.get("value"))
                value = None
            elif op == "eq":
                value = obj == self.decode(request.get("other"))
            elif op == "repr":
                value = repr(obj)
            elif op == "enter":
                value = obj.__enter__()
            elif op == "exit":
                failed = bool(request.get("failed"))
                value = obj.__exit__(*((RuntimeError, RuntimeError("failed"), None) if failed else (None, None, None)))
            else:
                raise BridgeError(f"unknown operation {op!r}")
            return json.dumps({"value": self.encode(value)})
        except Exception as exc:
            return json.dumps({"raised": type(exc).__name__, "module": type(exc).__module__,
                               "message": str(exc)[:2000]})


class LearnerNamespace(dict):
    """The globals test code runs in: checker names first, then builtins, then the learner's
    kernel (fetched on each use, as data, a RemoteFunction or an Opaque object)."""

    def __init__(self, bridge: Bridge, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bridge = bridge

    def __missing__(self, name):
        if hasattr(builtins, name):
            return getattr(builtins, name)
        try:
            return self.bridge.get(name)
        except KeyError:
            raise NameError(f"name {name!r} is not defined") from None

    def __contains__(self, name):
        if dict.__contains__(self, name):
            return True
        try:
            self[name]
        except (NameError, KeyError):
            return False
        return True

    def get(self, name, default=None):
        try:
            return self[name]
        except (NameError, KeyError):
            return default
