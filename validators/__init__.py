from synthwright import _as_subpackage

_as_subpackage(__name__)
